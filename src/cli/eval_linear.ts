// onevideo eval linear: DINO's linear probe on frozen features of a labelled image set.
import { z } from "zod";
import { checkpointOption, deviceOption, seedOption } from "../options.ts";
import { pickDevice } from "../torch/index.ts";
import { defineCommand } from "./command.ts";
import { randomResizedCrops } from "../augment/crop.ts";
import { Random } from "../util/random.ts";
import { loadEncoder } from "../eval/encoder.ts";
import { type LabelledImages, labelledImageOptions, openLabelledImages } from "../eval/labelled_images.ts";
import { probeAccuracy, trainLinearProbe } from "../eval/linear_probe.ts";
import { probeFeatureDim, probeFeatureSet, type ProbeFeatureOptions } from "../eval/probe_features.ts";
import { manualSeed } from "../torch/index.ts";
import { InputError } from "../errors.ts";

export const linearOptions = {
  checkpoint: checkpointOption,
  ...labelledImageOptions,
  imageSize: z.number().int().positive().optional().describe("input size (default: the encoder's)"),
  blocks: z
    .number()
    .int()
    .positive()
    .default(4)
    .describe("concatenate the [CLS] tokens of the last n blocks (DINO: 4 for ViT-S, 1 for ViT-B)"),
  avgpool: z
    .boolean()
    .default(false)
    .describe("append the last block's average-pooled patch tokens (DINO's ViT-B setting)"),
  epochs: z.number().int().positive().default(100).describe("passes over the train set (DINO's 100)"),
  batchSize: z.number().int().positive().default(256).describe("samples per SGD step and per forward pass"),
  lr: z.number().positive().optional().describe("base learning rate (default DINO's 0.001 * batch / 256)"),
  momentum: z.number().min(0).max(1).default(0.9).describe("SGD momentum"),
  weightDecay: z.number().min(0).default(0).describe("L2 weight decay"),
  augment: z
    .boolean()
    .default(false)
    .describe("recompute train features every epoch on random resized crops + flips"),
  seed: seedOption.describe("seeds the classifier, the sample order and the crops"),
  device: deviceOption,
};

export const command = defineCommand({
  name: "eval linear",
  usage:
    "onevideo eval linear --checkpoint <run|file> (--dataset fashion-mnist | --train <dir> --test <dir>)",
  options: linearOptions,
  notes: [
    "A linear layer (weights normal(0, 0.01), bias 0) is trained with cross-entropy by SGD on the",
    "frozen encoder's features, its learning rate decayed to 0 by a cosine over the epochs.",
    "Test images are always the evaluation view (resize and centre crop). By default the train",
    "images are too: their features are computed once and cached, and the epochs run on the cache,",
    "which is fast on a CPU. --augment trains as DINO does: every epoch recomputes the train",
    "features on random resized crops (scale 0.08-1, of that view rather than the whole original)",
    "with random horizontal flips, re-reading every train image and running the backbone over",
    "the train set once per epoch: about --epochs times slower, meant for a GPU.",
    "",
    "Prints one JSON line: top-1 accuracy (%), and top-5 with at least 5 classes (else null).",
  ],
  run(options) {
    const [train, test] = openLabelledImages(options);
    if (test.classNames.join("\n") !== train.classNames.join("\n")) {
      throw new InputError(
        `the test classes (${test.classNames.join(", ")}) are not the train classes (${train.classNames.join(", ")})`,
      );
    }
    const device = pickDevice(options.device);
    const encoder = loadEncoder(options.checkpoint, device);
    const size = options.imageSize ?? encoder.backbone.config.imageSize;
    const featureOptions: ProbeFeatureOptions = { blocks: options.blocks, avgpool: options.avgpool };
    const dim = probeFeatureDim(encoder.backbone, featureOptions);
    manualSeed(options.seed);
    const began = performance.now();
    const features = (set: LabelledImages, load = (start: number, n: number) => set.load(start, n, size)) =>
      probeFeatureSet(encoder, set.count, options.batchSize, load, featureOptions);
    const crops = new Random(options.seed);
    const cropOptions = { size, scale: [0.08, 1] as [number, number], flipProbability: 0.5 };
    const trainFeatures = options.augment
      ? () =>
          features(
            train,
            (start, n) => randomResizedCrops(train.load(start, n, size), cropOptions, crops).crops,
          )
      : features(train);
    using testFeatures = features(test);
    const progress = process.stderr.isTTY
      ? (epoch: number, loss: number) =>
          process.stderr.write(`\repoch ${epoch + 1}/${options.epochs} loss ${loss.toFixed(4)} `)
      : undefined;
    const probe = trainLinearProbe({
      trainFeatures,
      trainLabels: train.labels,
      classes: train.classNames.length,
      epochs: options.epochs,
      batchSize: options.batchSize,
      lr: options.lr,
      momentum: options.momentum,
      weightDecay: options.weightDecay,
      seed: options.seed,
      device,
      onEpoch: progress,
    });
    if (progress) process.stderr.write("\n");
    if (typeof trainFeatures !== "function") trainFeatures.dispose();
    const { top1, top5 } = probeAccuracy(probe.classifier, testFeatures, test.labels, options.batchSize);
    console.log(
      JSON.stringify({
        checkpoint: encoder.source,
        train: train.name,
        test: test.name,
        epochs: options.epochs,
        top1,
        top5,
        size,
        blocks: options.blocks,
        avgpool: options.avgpool,
        augment: options.augment,
        dim,
        batchSize: options.batchSize,
        lr: probe.lr,
        trainLoss: probe.losses[probe.losses.length - 1],
        seconds: Math.round((performance.now() - began) / 100) / 10,
      }),
    );
  },
});
