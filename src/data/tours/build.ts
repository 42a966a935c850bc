// Builds a tour folder: tour.mp4, its tour.json description and the held-out DAVIS sequences.
import { join } from "node:path";
import { InputError } from "../../errors.ts";
import { makeWritableFolder } from "../../util/folders.ts";
import { type TourManifest, type TourObjectRecord, writeTourManifest } from "./manifest.ts";
import { sequenceName, writeSequence, writeSplitList } from "./davis_sequences.ts";
import { videoCodec, videoWriter } from "./ffmpeg_writer.ts";
import { renderFrame, type Scene } from "./render.ts";
import { heldOutScene, tourScene } from "./scenes.ts";
import { semanticClassNames, semanticFolder } from "./semantic_maps.ts";
import { loadWorld, type World } from "./world.ts";

export interface TourSettings {
  out: string;
  seed: number;
  width: number;
  height: number;
  fps: number;
  seconds: number;
  /** Mean objects on screen. */
  density: number;
  /** Photos in the panorama. */
  photos: number;
  sequences: number;
  sequenceFrames: number;
  fashionMnistRoot?: string;
}

/** Frames rendered per write to ffmpeg: fewer, larger pipe writes. */
const framesPerWrite = 32;

async function writeVideo(scene: Scene, path: string, frames: number, fps: number): Promise<void> {
  const { width, height } = scene;
  const frameBytes = width * height * 3;
  const writer = videoWriter(path, width, height, fps);
  const ids = new Int32Array(width * height);
  for (let first = 0; first < frames; first += framesPerWrite) {
    const count = Math.min(framesPerWrite, frames - first);
    // A fresh chunk each time: the pipe holds on to the previous one until ffmpeg reads it.
    const chunk = new Uint8Array(count * frameBytes);
    for (let k = 0; k < count; k++) {
      const rgb = chunk.subarray(k * frameBytes, (k + 1) * frameBytes);
      renderFrame(scene, (first + k) / fps, { rgb, ids });
    }
    await writer.write(chunk);
  }
  await writer.close();
}

function objectRecords(scene: Scene, world: World, frames: number, fps: number): TourObjectRecord[] {
  return scene.objects
    .map((object) => ({
      id: object.id,
      label: object.label,
      className: world.classNames[object.label],
      sample: object.sample,
      start: Math.max(0, object.start),
      end: Math.min(frames / fps, object.end),
      // Frame f shows time f / fps: the frames whose time lies in [start, end).
      firstFrame: Math.max(0, Math.ceil(object.start * fps)),
      lastFrame: Math.min(frames - 1, Math.ceil(object.end * fps) - 1),
    }))
    .filter((record) => record.firstFrame <= record.lastFrame);
}

export function tourFrameCount(settings: Pick<TourSettings, "seconds" | "fps">): number {
  return Math.round(settings.seconds * settings.fps);
}

export async function buildTour(settings: TourSettings): Promise<TourManifest> {
  const frames = tourFrameCount(settings);
  if (frames < 1) throw new InputError(`a ${settings.seconds} s tour at ${settings.fps} fps has no frames`);
  makeWritableFolder(settings.out, "the tour to --out");
  const world = loadWorld(settings.seed, settings.photos, settings.height, settings.fashionMnistRoot);
  const size = { width: settings.width, height: settings.height, density: settings.density };
  const scene = tourScene(world, settings.seed, size, frames / settings.fps);
  await writeVideo(scene, join(settings.out, "tour.mp4"), frames, settings.fps);

  const davisRoot = join(settings.out, "davis");
  const sequences = [];
  for (let index = 0; index < settings.sequences; index++) {
    const seconds = settings.sequenceFrames / settings.fps;
    const heldOut = heldOutScene(world, settings.seed, size, seconds, index);
    const record = await writeSequence(
      heldOut,
      davisRoot,
      sequenceName(index),
      settings.sequenceFrames,
      settings.fps,
    );
    sequences.push({ ...record, classNames: record.objects.map((object) => world.classNames[object.label]) });
  }
  if (settings.sequences > 0)
    writeSplitList(
      davisRoot,
      sequences.map((sequence) => sequence.name),
    );

  const manifest: TourManifest = {
    seed: settings.seed,
    width: settings.width,
    height: settings.height,
    fps: settings.fps,
    frames,
    seconds: frames / settings.fps,
    codec: videoCodec(),
    density: settings.density,
    stripHeight: world.stripHeight,
    photos: world.photoPaths,
    objects: objectRecords(scene, world, frames, settings.fps),
    davis: {
      root: "davis",
      split: "val",
      sequences,
      semantic: { folder: semanticFolder, classNames: semanticClassNames(world.classNames) },
    },
  };
  writeTourManifest(settings.out, manifest);
  return manifest;
}
