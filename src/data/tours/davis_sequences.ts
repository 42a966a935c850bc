// Held-out sequences in the DAVIS-2017 layout, for label-propagation evaluation: JPEG frames,
// palette masks of object ids, semantic label maps and an ImageSets/2017/val.txt list. The
// folders are named 480p as DAVIS's readers expect, though the frames have the tour's size.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { davisAnnotationsDir, davisImagesDir, writeIndexMask } from "../davis.ts";
import { jpegWriter } from "./ffmpeg_writer.ts";
import { frameBuffers, renderFrame, type Scene } from "./render.ts";
import type { SequenceRecord } from "./manifest.ts";
import { semanticAnnotationsDir, semanticMap, semanticValues } from "./semantic_maps.ts";

export function sequenceName(index: number): string {
  return `tour${String(index).padStart(2, "0")}`;
}

/**
 * Renders `frames` frames of the scene into root/JPEGImages/480p/<name> and
 * root/Annotations/480p/<name>. DAVIS's semi-supervised task tracks only the objects given in
 * the first frame's mask, so ids go to the objects visible in frame 0 (1, 2, ... in scene
 * order) and objects that enter later stay background in every mask. The semantic maps in
 * root/SemanticAnnotations/<name> label every garment drawn, with 1 + its class.
 */
export async function writeSequence(
  scene: Scene,
  root: string,
  name: string,
  frames: number,
  fps: number,
): Promise<SequenceRecord> {
  const { width, height } = scene;
  const imagesDir = join(davisImagesDir(root), name);
  const masksDir = join(davisAnnotationsDir(root), name);
  const semanticDir = join(semanticAnnotationsDir(root), name);
  for (const dir of [imagesDir, masksDir, semanticDir]) mkdirSync(dir, { recursive: true });
  const classValues = semanticValues(scene.objects);
  const writer = jpegWriter(imagesDir, width, height, fps);
  const davisIds = new Map<number, number>();
  const buffers = frameBuffers(width, height);
  for (let frame = 0; frame < frames; frame++) {
    renderFrame(scene, frame / fps, buffers);
    if (frame === 0) {
      const present = [...new Set(buffers.ids)].filter((id) => id > 0).sort((a, b) => a - b);
      present.forEach((objectId, index) => davisIds.set(objectId, index + 1));
    }
    const mask = new Uint8Array(width * height);
    for (let pixel = 0; pixel < mask.length; pixel++) mask[pixel] = davisIds.get(buffers.ids[pixel]) ?? 0;
    const file = `${String(frame).padStart(5, "0")}.png`;
    writeIndexMask(join(masksDir, file), { width, height, data: mask });
    const classes = semanticMap(buffers.ids, classValues);
    writeIndexMask(join(semanticDir, file), { width, height, data: classes });
    await writer.write(buffers.rgb.slice());
  }
  await writer.close();
  const objects = [...davisIds].map(([objectId, davisId]) => {
    const object = scene.objects.find((candidate) => candidate.id === objectId)!;
    return { davisId, objectId, label: object.label, sample: object.sample };
  });
  return { name, frames, objects };
}

/** The split list DAVIS readers start from. */
export function writeSplitList(root: string, names: readonly string[], split = "val"): void {
  const dir = join(root, "ImageSets", "2017");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${split}.txt`), names.map((name) => `${name}\n`).join(""));
}
