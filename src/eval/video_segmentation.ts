// DAVIS-2017 semi-supervised video object segmentation with a frozen encoder: frames at
// DINO's evaluation size, patch features, label propagation from the first annotation,
// and masks written as palette PNGs at the original size.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  davisAnnotationsDir,
  davisImagesDir,
  type IndexMask,
  listFrameNames,
  readIndexMask,
  writeIndexMask,
} from "../data/davis.ts";
import type { RgbImage } from "../data/frame_source.ts";
import { readImage } from "../data/image_file.ts";
import { F, keep, scope, type Tensor, tensor } from "../torch/index.ts";
import { InputError } from "../errors.ts";
import type { DenseFeatures } from "./dense_features.ts";
import {
  type LabelledFrame,
  neighborhoodMask,
  type PropagationOptions,
  propagateLabels,
} from "./label_propagation.ts";
import { patchTokens } from "./patch_tokens.ts";

/** DINO's evaluation size: the short side at `shortSide`, the long side rounded down to a multiple of 64. */
export function evaluationSize(
  width: number,
  height: number,
  shortSide: number,
  patchSize: number,
): { width: number; height: number } {
  const roundDown = (value: number) => {
    const step = value >= 64 ? 64 : patchSize;
    return Math.max(patchSize, value - (value % step));
  };
  if (shortSide % patchSize !== 0) {
    throw new InputError(`--size ${shortSide} is not a multiple of the encoder's patch size ${patchSize}`);
  }
  return height > width
    ? { width: shortSide, height: roundDown(Math.floor((shortSide * height) / width)) }
    : { width: roundDown(Math.floor((shortSide * width) / height)), height: shortSide };
}

/**
 * The source index of each output pixel in PIL's NEAREST resize (ImagingScaleAffine): the
 * pixel centre walked in steps of size / outputs in double precision, then truncated. The
 * walk's rounding decides the ties that an exact centre rule would break the other way.
 */
function nearestSources(size: number, outputs: number): Int32Array {
  const step = size / outputs;
  const sources = new Int32Array(outputs);
  let position = step * 0.5;
  for (let i = 0; i < outputs; i++) {
    sources[i] = Math.min(size - 1, Math.trunc(position));
    position += step;
  }
  return sources;
}

/** Nearest-neighbour resize of an id mask, exactly as PIL's Image.resize(size, NEAREST). */
export function resizeMask(mask: IndexMask, width: number, height: number): IndexMask {
  const data = new Uint8Array(width * height);
  const columns = nearestSources(mask.width, width);
  const rows = nearestSources(mask.height, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data[y * width + x] = mask.data[rows[y] * mask.width + columns[x]];
  }
  return { width, height, data };
}

/**
 * One-hot labels [C, h*w] of the first frame's mask on the patch grid, as DINO's to_one_hot
 * builds them: C = its largest id + 1, so a void id (255) there is a class of its own, which
 * propagation may predict like any object.
 */
export function oneHot(mask: IndexMask): Tensor {
  const classes = mask.data.reduce((largest, id) => Math.max(largest, id), 0) + 1;
  const values = new Float32Array(classes * mask.data.length);
  mask.data.forEach((id, index) => {
    values[id * mask.data.length + index] = 1;
  });
  return tensor(values, { shape: [classes, mask.data.length] });
}

/** L2-normalised patch features [h*w, D] of an RGB frame at the evaluation size. */
function patchFeatures(encoder: DenseFeatures, frame: RgbImage): Tensor {
  return scope(() => keep(F.normalize(patchTokens(encoder, [frame]).squeeze(0), 2, 1)));
}

/**
 * Soft labels [C, h, w] at patch resolution -> an id mask at the original size: bilinear
 * upsampling by the patch size, each channel rescaled to [0, 1] (DINO's norm_mask), argmax.
 */
function labelsToMask(
  labels: Tensor,
  grid: { rows: number; cols: number },
  patchSize: number,
  original: { width: number; height: number },
): IndexMask {
  return scope(() => {
    const classes = labels.size(0);
    const upsampled = F.interpolate(labels.view(1, classes, grid.rows, grid.cols), {
      size: [grid.rows * patchSize, grid.cols * patchSize],
      mode: "bilinear",
      alignCorners: false,
    }).squeeze(0);
    const flat = upsampled.view(classes, -1);
    const low = flat.amin(1, true);
    const high = flat.amax(1, true);
    const range = high.sub(low);
    // Channels that are zero everywhere stay as they are.
    const rescaled = flat
      .sub(low)
      .div(range.clampMin(1e-12))
      .mul(high.gt(0).float())
      .add(flat.mul(high.le(0).float()));
    const ids = rescaled.argmax(0).to("cpu").toArray();
    const small: IndexMask = {
      width: grid.cols * patchSize,
      height: grid.rows * patchSize,
      data: Uint8Array.from(ids),
    };
    return resizeMask(small, original.width, original.height);
  });
}

export interface SegmentationSettings extends PropagationOptions {
  /** Short side of the frames the encoder sees (DINO: 480). */
  shortSide: number;
}

/** Segments one DAVIS sequence; writes <out>/<frame>.png for every frame and returns their count. */
export function segmentSequence(
  encoder: DenseFeatures,
  davisRoot: string,
  sequence: string,
  out: string,
  settings: SegmentationSettings,
): number {
  const annotationDir = join(davisAnnotationsDir(davisRoot), sequence);
  const imageDir = join(davisImagesDir(davisRoot), sequence);
  const names = listFrameNames(imageDir, ".jpg");
  const frames = names.map((name) => `${name}.jpg`);
  const first = readIndexMask(join(annotationDir, `${names[0]}.png`));
  const original = { width: first.width, height: first.height };
  const size = evaluationSize(first.width, first.height, settings.shortSide, encoder.patchSize);
  const grid = { rows: size.height / encoder.patchSize, cols: size.width / encoder.patchSize };
  mkdirSync(out, { recursive: true });
  writeIndexMask(join(out, `${names[0]}.png`), first);
  const mask =
    settings.neighborhood > 0 ? keep(neighborhoodMask(grid.rows, grid.cols, settings.neighborhood)) : null;
  const firstFrame: LabelledFrame = {
    features: patchFeatures(encoder, readImage(join(imageDir, frames[0]), size)),
    labels: oneHot(resizeMask(first, grid.cols, grid.rows)),
  };
  const recent: LabelledFrame[] = [];
  try {
    for (let index = 1; index < frames.length; index++) {
      const features = patchFeatures(encoder, readImage(join(imageDir, frames[index]), size));
      const labels = keep(propagateLabels(features, [firstFrame, ...recent], settings, mask));
      recent.push({ features, labels });
      if (recent.length > settings.contextFrames) {
        const dropped = recent.shift()!;
        dropped.features.dispose();
        dropped.labels.dispose();
      }
      writeIndexMask(
        join(out, `${names[index]}.png`),
        labelsToMask(labels, grid, encoder.patchSize, original),
      );
    }
  } finally {
    for (const entry of [firstFrame, ...recent]) {
      entry.features.dispose();
      entry.labels.dispose();
    }
    mask?.dispose();
  }
  return frames.length;
}
