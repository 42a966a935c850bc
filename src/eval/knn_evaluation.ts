// DINO's weighted k-NN evaluation of a frozen encoder, as one call: its options (the flags of
// `onevideo eval knn`) and the result the command prints.
import { z } from "zod";
import { checkpointOption, deviceOption, validateConfig } from "../options.ts";
import { pickDevice } from "../torch/index.ts";
import { loadEncoder } from "./encoder.ts";
import { type KnnAccuracy, knnSweep } from "./knn.ts";
import { type LabelledImages, labelledImageOptions, openLabelledImages } from "./labelled_images.ts";
import { probeFeatureSet } from "./probe_features.ts";

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

export type KnnEvaluationOptions = z.input<z.ZodObject<typeof knnOptions>>;

export interface KnnEvaluation {
  checkpoint: string;
  train: string;
  test: string;
  size: number;
  results: KnnAccuracy[];
}

/** Top-1 and top-5 accuracy (%) of k-NN on the last block's [CLS] features, for every k. */
export function evaluateKnn(given: KnnEvaluationOptions): KnnEvaluation {
  const options = validateConfig(z.object(knnOptions).strict(), given, "eval knn");
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
  return { checkpoint: encoder.source, train: train.name, test: test.name, size, results };
}
