// onevideo eval knn: DINO's weighted k-NN on frozen [CLS] features of a labelled image set.
import { z } from "zod";
import { loadEncoder } from "../eval/encoder.ts";
import { clsFeatures } from "../eval/features.ts";
import { knnSweep } from "../eval/knn.ts";
import { fashionMnistImages, imageFolderImages, type LabelledImages } from "../eval/labelled_images.ts";
import { describeOptions, validateConfig } from "../train/config.ts";
import { InputError } from "../video/probe.ts";
import { pickDevice } from "./pretrain.ts";

export const knnOptions = {
  checkpoint: z.string().describe("run folder, weights .safetensors or DINO/DoRA .pth"),
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
  imageSize: z.number().int().positive().optional().describe("input size (default: the encoder's)"),
  k: z
    .union([z.number().int().positive(), z.string().regex(/^\d+(,\d+)*$/)])
    .default("10,20,100,200")
    .describe("neighbour counts"),
  temperature: z.number().positive().default(0.07).describe("vote weight exp(similarity / T)"),
  batchSize: z.number().int().positive().default(128).describe("images per forward pass"),
  device: z.string().optional().describe("cpu, cuda or cuda:N"),
};

export const help = [
  "usage: onevideo eval knn --checkpoint <run|file> (--dataset fashion-mnist | --train <dir> --test <dir>)",
  "",
  ...describeOptions(knnOptions),
  "",
  "Prints one JSON line: top-1 and top-5 accuracy (%) for every k.",
].join("\n");

function labelledSets(options: z.infer<z.ZodObject<typeof knnOptions>>): [LabelledImages, LabelledImages] {
  if (options.dataset === "fashion-mnist") {
    return [fashionMnistImages("train", options.trainLimit), fashionMnistImages("test", options.testLimit)];
  }
  if (options.train === undefined || options.test === undefined) {
    throw new InputError(
      "give --dataset fashion-mnist, or --train <dir> and --test <dir> (ImageFolder layout)",
    );
  }
  return [
    imageFolderImages(options.train, options.trainLimit),
    imageFolderImages(options.test, options.testLimit),
  ];
}

export function command(raw: Record<string, unknown>): void {
  const options = validateConfig(z.object(knnOptions).strict(), raw);
  const [train, test] = labelledSets(options);
  const encoder = loadEncoder(options.checkpoint, pickDevice(options.device));
  const size = options.imageSize ?? encoder.backbone.config.imageSize;
  const features = (set: LabelledImages) =>
    clsFeatures(encoder, set.count, options.batchSize, (start, n) => set.load(start, n, size));
  using trainFeatures = features(train);
  using testFeatures = features(test);
  const results = knnSweep({
    trainFeatures,
    trainLabels: train.labels,
    testFeatures,
    testLabels: test.labels,
    ks: String(options.k).split(",").map(Number),
    temperature: options.temperature,
    classes: train.classNames.length,
  });
  console.log(
    JSON.stringify({ checkpoint: encoder.source, train: train.name, test: test.name, size, results }),
  );
}
