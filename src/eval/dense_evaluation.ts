// The dense linear probe on a tour's held-out sequences, as one call: its options (the flags of
// `onevideo eval dense`) and the result the command prints.
import { z } from "zod";
import { readTourSemantics } from "../data/tours/semantic_maps.ts";
import { InputError } from "../errors.ts";
import { checkpointOption, deviceOption, seedOption, validateConfig } from "../options.ts";
import { manualSeed, pickDevice } from "../torch/index.ts";
import { loadDenseFeatures } from "./dense_features.ts";
import { type DenseSet, trainDenseProbe } from "./dense_probe.ts";
import { tourDenseSet } from "./tour_dense_sets.ts";

export const denseOptions = {
  checkpoint: checkpointOption,
  tour: z.string().describe("tour folder built by 'onevideo tours' (tour.json, davis/)"),
  size: z.number().int().positive().default(96).describe("short side the encoder sees"),
  epochs: z.number().int().positive().default(30).describe("passes over the train frames"),
  lr: z.number().positive().default(1e-2).describe("AdamW learning rate"),
  batchSize: z.number().int().positive().default(16).describe("frames per step"),
  trainSequences: z
    .number()
    .int()
    .positive()
    .optional()
    .describe("train on the first K held-out sequences, test on the rest (default: half)"),
  seed: seedOption.describe("seeds the classifier and the frame order"),
  device: deviceOption,
};

export type DenseEvaluationOptions = z.input<z.ZodObject<typeof denseOptions>>;

/** Train and test frames, mIoU, pixel accuracy and IoU per class of a 1x1-conv probe on frozen patch features. */
export function evaluateDense(given: DenseEvaluationOptions) {
  const options = validateConfig(z.object(denseOptions).strict(), given, "eval dense");
  const tour = readTourSemantics(options.tour);
  const count = tour.sequences.length;
  if (count < 2) {
    throw new InputError(`${options.tour} has ${count} held-out sequences; the probe needs at least 2`);
  }
  const trainCount = options.trainSequences ?? Math.floor(count / 2);
  if (trainCount >= count) {
    throw new InputError(`--train-sequences ${trainCount} leaves none of the ${count} sequences to test on`);
  }
  const encoder = loadDenseFeatures(options.checkpoint, pickDevice(options.device));
  const sets: DenseSet[] = [];
  try {
    sets.push(tourDenseSet(encoder, tour, tour.sequences.slice(0, trainCount), options.size));
    sets.push(tourDenseSet(encoder, tour, tour.sequences.slice(trainCount), options.size));
    const [train, test] = sets;
    manualSeed(options.seed); // the classifier's initial weights
    const result = trainDenseProbe(train, test, { ...options, classes: tour.classNames.length });
    return {
      checkpoint: encoder.source,
      train_frames: train.labels.length,
      test_frames: test.labels.length,
      mIoU: result.meanIou,
      pixel_accuracy: result.pixelAccuracy,
      iou: Object.fromEntries(tour.classNames.map((name, c) => [name, result.iou[c]])),
    };
  } finally {
    for (const set of sets) set.features.dispose();
  }
}
