// The pictures of a run folder: the loss curve, the teacher's attention on a few frames,
// and (DoRA) the objects its teacher discovers and tracks through a few clips.
import { normalizeImages } from "../augment/photometric.ts";
import type { VisionTransformer } from "../models/vit.ts";
import { F, scope, tensor } from "../torch/index.ts";
import type { ClipSource } from "../data/clip_source.ts";
import { type ImageSource, rgbBatch } from "../data/frame_source.ts";
import { patchAlignedSize } from "../eval/encoder.ts";
import type { RunFolder } from "../train/run_folder.ts";
import { attentionStrip, clsAttentionMaps } from "./attention.ts";
import { linePlotSvg, svgToPng } from "./line_plot.ts";
import { writePng } from "../image/png.ts";
import type { DiscoveryOptions } from "../discovery/clip_discovery.ts";
import { tileRow, trackedObjectFrames } from "./tracked_objects.ts";

export function writeLossCurve(run: RunFolder): string {
  const records = run.readMetrics();
  return svgToPng(
    linePlotSvg([{ label: "loss", x: records.map((r) => r.step), y: records.map((r) => r.loss) }], {
      title: "training loss",
      xLabel: "step",
      yLabel: "loss",
    }),
    run.picturePath("loss.png"),
  );
}

/** Attention strips for `count` samples spread over the data; returns the files written. */
export function writeAttentionPictures(
  run: RunFolder,
  backbone: VisionTransformer,
  source: ImageSource,
  count = 3,
): string[] {
  backbone.eval();
  const size = backbone.config.imageSize;
  const written: string[] = [];
  for (let i = 0; i < count; i++) {
    const index = Math.floor(((i + 0.5) * source.size) / count);
    const picture = source.picture(index);
    scope(() => {
      const image = tensor(picture.data, { shape: [1, picture.height, picture.width, 3] })
        .permute(0, 3, 1, 2)
        .float()
        .div(255);
      const { width, height } = patchAlignedSize(
        picture.width,
        picture.height,
        size,
        backbone.config.patchSize,
      );
      const resized = F.interpolate(image, { size: [height, width], mode: "bilinear" });
      const maps = clsAttentionMaps(backbone, normalizeImages(resized).to(backbone.posEmbed.device));
      const display = resized.mul(255).round().clamp(0, 255).to("uint8").permute(0, 2, 3, 1).contiguous();
      const path = run.picturePath(`attention-${index}.png`);
      writePng(
        path,
        attentionStrip(
          display.data() as Uint8Array,
          width,
          height,
          maps.cpu(),
          Math.max(1, Math.round(192 / height)),
        ),
      );
      written.push(path);
    });
  }
  return written;
}

/** objects-<clip>.png for `count` clips spread over the video: the clip's frames side by side, objects overlaid. */
export function writeObjectPictures(
  run: RunFolder,
  backbone: VisionTransformer,
  source: ClipSource,
  heads: number[],
  options: DiscoveryOptions,
  count = 3,
): string[] {
  backbone.eval();
  const { store } = source;
  const { width, height } = patchAlignedSize(
    store.width,
    store.height,
    backbone.config.imageSize,
    backbone.config.patchSize,
  );
  const written: string[] = [];
  for (let i = 0; i < count; i++) {
    const clip = Math.floor(((i + 0.5) * source.size) / count);
    const bytes = scope(() => {
      const frames = rgbBatch(store.readClip(clip), store.clipLength, store.height, store.width, "cpu");
      const resized = F.interpolate(frames, { size: [height, width], mode: "bilinear" });
      return resized.mul(255).round().clamp(0, 255).to("uint8").permute(0, 2, 3, 1).contiguous();
    });
    const data = bytes.data() as Uint8Array;
    bytes.dispose();
    const frameBytes = width * height * 3;
    const frames = Array.from({ length: store.clipLength }, (_, t) =>
      data.slice(t * frameBytes, (t + 1) * frameBytes),
    );
    const overlays = trackedObjectFrames(backbone, frames, width, height, heads, options);
    const path = run.picturePath(`objects-${clip}.png`);
    writePng(path, tileRow(overlays, Math.max(1, Math.round(128 / height))));
    written.push(path);
  }
  return written;
}
