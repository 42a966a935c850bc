// DINO's linear probe on a frozen encoder, as one call: its options (the flags of
// `onevideo eval linear`) and the result the command prints.
import { z } from "zod";
import { InputError } from "../errors.ts";
import { checkpointOption, deviceOption, seedOption, validateConfig } from "../options.ts";
import { manualSeed, pickDevice } from "../torch/index.ts";
import { Random } from "../util/random.ts";
import { loadEncoder } from "./encoder.ts";
import { type LabelledImages, labelledImageOptions, openLabelledImages } from "./labelled_images.ts";
import { probeAccuracy, trainLinearProbe } from "./linear_probe.ts";
import { probeFeatureDim, probeFeatureSet, type ProbeFeatureOptions } from "./probe_features.ts";

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
  cachedFeatures: z
    .boolean()
    .default(false)
    .describe("not DINO's protocol: train on the evaluation view's features, computed once (fast on a CPU)"),
  valEvery: z
    .number()
    .int()
    .positive()
    .default(1)
    .describe("epochs between test evaluations (DINO's val_freq 1)"),
  seed: seedOption.describe("seeds the classifier, the sample order and the crops"),
  device: deviceOption,
};

export type LinearEvaluationOptions = z.input<z.ZodObject<typeof linearOptions>>;

/** The best top-1 (%) over the evaluations, as DINO reports it, with its epoch and top-5, and the last epoch's. */
export function evaluateLinear(given: LinearEvaluationOptions) {
  const options = validateConfig(z.object(linearOptions).strict(), given, "eval linear");
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
  const trainFeatures = options.cachedFeatures
    ? features(train)
    : () => features(train, (start, n) => train.loadTrainView(start, n, size, crops));
  using testFeatures = features(test);
  let best = { top1: -1, top5: null as number | null, epoch: 0 };
  let last = best;
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
    onEpoch: (epoch, loss, classifier) => {
      const evaluated = (epoch + 1) % options.valEvery === 0 || epoch === options.epochs - 1;
      if (evaluated) {
        const { top1, top5 } = probeAccuracy(classifier, testFeatures, test.labels, options.batchSize);
        last = { top1, top5, epoch: epoch + 1 };
        if (top1 > best.top1) best = last;
      }
      if (process.stderr.isTTY) {
        process.stderr.write(
          `\repoch ${epoch + 1}/${options.epochs} loss ${loss.toFixed(4)}  best top-1 ${best.top1.toFixed(2)} `,
        );
      }
    },
  });
  if (process.stderr.isTTY) process.stderr.write("\n");
  if (typeof trainFeatures !== "function") trainFeatures.dispose();
  return {
    checkpoint: encoder.source,
    train: train.name,
    test: test.name,
    epochs: options.epochs,
    top1: best.top1,
    top5: best.top5,
    bestEpoch: best.epoch,
    lastTop1: last.top1,
    size,
    blocks: options.blocks,
    avgpool: options.avgpool,
    cachedFeatures: options.cachedFeatures,
    dim,
    batchSize: options.batchSize,
    lr: probe.lr,
    trainLoss: probe.losses[probe.losses.length - 1],
    seconds: Math.round((performance.now() - began) / 100) / 10,
  };
}
