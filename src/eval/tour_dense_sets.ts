// Held-out tour sequences as dense-probe sets: patch features of every frame at the
// evaluation size, and the semantic label maps at the frames' own size (the probe upsamples
// its logits to them, so labels are never resampled).
import { join } from "node:path";
import { davisImagesDir, listFrameNames, readIndexMask } from "../data/davis.ts";
import { readJpegs } from "../data/image_file.ts";
import type { TourSemantics } from "../data/tours/semantic_maps.ts";
import { cat, type Tensor } from "../torch/index.ts";
import { InputError } from "../errors.ts";
import type { DenseSet } from "./dense_probe.ts";
import type { DenseFeatures } from "./dense_features.ts";
import { patchTokens } from "./patch_tokens.ts";
import { ignoreLabel } from "./segmentation_metrics.ts";
import { evaluationSize } from "./video_segmentation.ts";

/** Frames per forward pass. */
const framesPerBatch = 16;

export function tourDenseSet(
  encoder: DenseFeatures,
  tour: TourSemantics,
  sequences: readonly string[],
  shortSide: number,
): DenseSet {
  const labels: Uint8Array[] = [];
  const chunks: Tensor[] = [];
  let original: { width: number; height: number } | undefined;
  try {
    for (const sequence of sequences) {
      const imageDir = join(davisImagesDir(tour.davisRoot), sequence);
      const names = listFrameNames(imageDir, ".jpg");
      for (const name of names) {
        const path = join(tour.labelsDir, sequence, `${name}.png`);
        const map = readIndexMask(path);
        original ??= { width: map.width, height: map.height };
        if (map.width !== original.width || map.height !== original.height) {
          throw new InputError(
            `${path} is ${map.width}x${map.height}, other frames are ${original.width}x${original.height}`,
          );
        }
        const high = map.data.find((value) => value >= tour.classNames.length && value !== ignoreLabel);
        if (high !== undefined) {
          throw new InputError(
            `${path} holds label ${high} but the tour has ${tour.classNames.length} classes`,
          );
        }
        labels.push(map.data);
      }
      const size = evaluationSize(original!.width, original!.height, shortSide, encoder.patchSize);
      const rows = size.height / encoder.patchSize;
      const cols = size.width / encoder.patchSize;
      for (let start = 0; start < names.length; start += framesPerBatch) {
        const paths = names.slice(start, start + framesPerBatch).map((name) => join(imageDir, `${name}.jpg`));
        const frames = readJpegs(paths, size);
        using tokens = patchTokens(encoder, frames);
        chunks.push(tokens.reshape(frames.length, rows, cols, -1));
      }
    }
    if (original === undefined) throw new InputError("no sequences to read");
    return { features: cat(chunks, 0), labels, ...original };
  } finally {
    for (const chunk of chunks) chunk.dispose();
  }
}
