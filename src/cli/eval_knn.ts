// onevideo eval knn: DINO's weighted k-NN on frozen [CLS] features of a labelled image set.
import { z } from "zod";
import { loadEncoder } from "../eval/encoder.ts";
import { probeFeatureSet } from "../eval/probe_features.ts";
import { knnSweep } from "../eval/knn.ts";
import { type LabelledImages, labelledImageOptions, openLabelledImages } from "../eval/labelled_images.ts";
import { describeOptions, validateConfig } from "../train/config.ts";
import { pickDevice } from "./pretrain.ts";

export const knnOptions = {
  checkpoint: z.string().describe("run folder, weights .safetensors or DINO/DoRA .pth"),
  ...labelledImageOptions,
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

export function command(raw: Record<string, unknown>): void {
  const options = validateConfig(z.object(knnOptions).strict(), raw);
  const [train, test] = openLabelledImages(options);
  const encoder = loadEncoder(options.checkpoint, pickDevice(options.device));
  const size = options.imageSize ?? encoder.backbone.config.imageSize;
  const features = (set: LabelledImages) =>
    probeFeatureSet(encoder, set.count, options.batchSize, (start, n) => set.load(start, n, size), {
      blocks: 1, // the last block's [CLS]: DINO's k-NN feature
      avgpool: false,
    });
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
