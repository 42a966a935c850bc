// onevideo eval knn: DINO's weighted k-NN on frozen [CLS] features of a labelled image set.
import { z } from "zod";
import { checkpointOption, deviceOption } from "../options.ts";
import { pickDevice } from "../torch/index.ts";
import { defineCommand } from "./command.ts";
import { loadEncoder } from "../eval/encoder.ts";
import { probeFeatureSet } from "../eval/probe_features.ts";
import { knnSweep } from "../eval/knn.ts";
import { type LabelledImages, labelledImageOptions, openLabelledImages } from "../eval/labelled_images.ts";

export const knnOptions = {
  checkpoint: checkpointOption,
  ...labelledImageOptions,
  imageSize: z.number().int().positive().optional().describe("input size (default: the encoder's)"),
  k: z
    .union([z.number().int().positive(), z.string().regex(/^\d+(,\d+)*$/)])
    .default("10,20,100,200")
    .describe("neighbour counts"),
  temperature: z.number().positive().default(0.07).describe("vote weight exp(similarity / T)"),
  batchSize: z.number().int().positive().default(128).describe("images per forward pass"),
  device: deviceOption,
};

export const command = defineCommand({
  name: "eval knn",
  usage: "onevideo eval knn --checkpoint <run|file> (--dataset fashion-mnist | --train <dir> --test <dir>)",
  options: knnOptions,
  notes: ["Prints one JSON line: top-1 and top-5 accuracy (%) for every k."],
  run(options) {
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
  },
});
