// Labelled image sets for the frozen-feature evaluations: Fashion-MNIST's IDX files or an
// ImageFolder tree, each loadable in batches at the encoder's input size.
import { evaluationView } from "../data/evaluation_view.ts";
import {
  type FashionMnist,
  fashionMnistBatch,
  fashionMnistSide,
  loadFashionMnist,
} from "../data/fashion_mnist.ts";
import { rgbBatch } from "../data/frame_source.ts";
import { readCenterCrop, readImage } from "../data/image_file.ts";
import { listImageFolder } from "../data/image_folder.ts";
import { z } from "zod";
import { resizedCrop, sampleCropBox } from "../augment/crop.ts";
import { cat, scope, type Tensor } from "../torch/index.ts";
import type { Random } from "../util/random.ts";
import { InputError, UsageError } from "../errors.ts";

export interface LabelledImages {
  name: string;
  count: number;
  labels: number[];
  classNames: readonly string[];
  /** Images start .. start+n-1 as [n, 3, size, size] floats in [0, 1] on the CPU: DINO's evaluation view. */
  load(start: number, n: number, size: number): Tensor;
  /**
   * The same images as DINO's linear probe trains on them: a RandomResizedCrop (scale 0.08-1,
   * ratio 3/4-4/3) of each original image to size x size and a horizontal flip at p 0.5.
   */
  loadTrainView(start: number, n: number, size: number, random: Random): Tensor;
}

const trainCrop = { scale: [0.08, 1] as [number, number], flipProbability: 0.5 };

/** Train views of originals given one at a time as [1, 3, H, W] in [0, 1]. */
function trainViews(originals: Tensor[], size: number, random: Random): Tensor {
  return scope(() => {
    const crops = originals.map((original) => {
      const [, , height, width] = original.shape;
      return resizedCrop(original, sampleCropBox(width, height, trainCrop, random), size);
    });
    return cat(crops, 0);
  });
}

/** The first `limit` samples (all when absent), taken evenly over the set so every class appears. */
function spread(total: number, limit: number | undefined): number[] {
  if (limit === undefined || limit >= total) return Array.from({ length: total }, (_, i) => i);
  if (limit < 1) throw new InputError(`a sample limit must be at least 1, got ${limit}`);
  return Array.from({ length: limit }, (_, i) => Math.floor((i * total) / limit));
}

/** The samples `indices` of a set, as a set of their own. */
function subset(set: FashionMnist, indices: number[]): FashionMnist {
  const pixels = fashionMnistSide * fashionMnistSide;
  const images = new Uint8Array(indices.length * pixels);
  indices.forEach((index, i) =>
    images.set(set.images.subarray(index * pixels, (index + 1) * pixels), i * pixels),
  );
  return { ...set, images, labels: set.labels.subarray(0, indices.length), count: indices.length };
}

export function fashionMnistImages(split: "train" | "test", limit?: number): LabelledImages {
  const set = loadFashionMnist(split);
  const chosen = spread(set.count, limit);
  // Contiguous runs are the common case (no limit); a spread subset is gathered row by row.
  const originals = (start: number, n: number) =>
    chosen.length === set.count
      ? fashionMnistBatch(set, start, n, fashionMnistSide)
      : fashionMnistBatch(subset(set, chosen.slice(start, start + n)), 0, n, fashionMnistSide);
  return {
    name: `fashion-mnist/${split}`,
    count: chosen.length,
    labels: chosen.map((index) => set.labels[index]),
    classNames: set.classNames,
    load(start, n, size) {
      using images = originals(start, n);
      return evaluationView(images, size);
    },
    loadTrainView(start, n, size, random) {
      using images = originals(start, n);
      return trainViews(images.chunk(n, 0), size, random);
    },
  };
}

export function imageFolderImages(root: string, limit?: number): LabelledImages {
  const listing = listImageFolder(root);
  const chosen = spread(listing.files.length, limit);
  return {
    name: root,
    count: chosen.length,
    labels: chosen.map((index) => listing.labels[index]),
    classNames: listing.classes,
    load(start, n, size) {
      const bytes = new Uint8Array(n * size * size * 3);
      for (let i = 0; i < n; i++) {
        bytes.set(readCenterCrop(listing.files[chosen[start + i]], size).data, i * size * size * 3);
      }
      return rgbBatch(bytes, n, size, size, "cpu");
    },
    loadTrainView(start, n, size, random) {
      const images = Array.from({ length: n }, (_, i) => {
        const { width, height, data } = readImage(listing.files[chosen[start + i]]);
        return rgbBatch(data, 1, height, width, "cpu");
      });
      try {
        return trainViews(images, size, random);
      } finally {
        for (const image of images) image.dispose();
      }
    },
  };
}

/** The options that choose a labelled train/test pair, shared by the frozen-feature evaluations. */
export const labelledImageOptions = {
  dataset: z
    .enum(["fashion-mnist"])
    .optional()
    .describe("a bundled dataset (Debian's dataset-fashion-mnist)"),
  train: z.string().optional().describe("train images in the ImageFolder layout (instead of --dataset)"),
  test: z.string().optional().describe("test images in the ImageFolder layout"),
  trainLimit: z
    .number()
    .int()
    .positive()
    .optional()
    .describe("use this many train images, spread over the set"),
  testLimit: z.number().int().positive().optional().describe("use this many test images"),
};

/** The train and test sets the options name. */
export function openLabelledImages(
  options: z.infer<z.ZodObject<typeof labelledImageOptions>>,
): [LabelledImages, LabelledImages] {
  if (options.dataset === "fashion-mnist") {
    return [fashionMnistImages("train", options.trainLimit), fashionMnistImages("test", options.testLimit)];
  }
  if (options.train === undefined || options.test === undefined) {
    throw new UsageError(
      "give --dataset fashion-mnist, or --train <dir> and --test <dir> (ImageFolder layout)",
    );
  }
  return [
    imageFolderImages(options.train, options.trainLimit),
    imageFolderImages(options.test, options.testLimit),
  ];
}
