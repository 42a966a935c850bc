// onevideo eval dense: a dense (per-pixel) linear probe on frozen patch features of a tour's
// held-out sequences, trained on the first sequences and scored by mean IoU on the rest.
import { z } from "zod";
import { checkpointOption, deviceOption, seedOption } from "../options.ts";
import { pickDevice } from "../torch/index.ts";
import { defineCommand } from "./command.ts";
import { readTourSemantics } from "../data/tours/semantic_maps.ts";
import { type DenseSet, trainDenseProbe } from "../eval/dense_probe.ts";
import { loadDenseFeatures } from "../eval/dense_features.ts";
import { tourDenseSet } from "../eval/tour_dense_sets.ts";
import { manualSeed } from "../torch/index.ts";
import { InputError } from "../errors.ts";

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

export const command = defineCommand({
  name: "eval dense",
  usage: "onevideo eval dense --checkpoint <run|file> --tour <dir> [options]",
  options: denseOptions,
  notes: [
    "A 1x1 convolution on the frozen patch features of every frame, its logits upsampled to the",
    "frames' size, is trained with cross-entropy against the tour's semantic label maps",
    "(background and the 10 Fashion-MNIST classes).",
    "",
    "Prints one JSON line: train and test frames, mIoU, pixel accuracy and IoU per class.",
  ],
  run(options) {
    const tour = readTourSemantics(options.tour);
    const count = tour.sequences.length;
    if (count < 2) {
      throw new InputError(`${options.tour} has ${count} held-out sequences; the probe needs at least 2`);
    }
    const trainCount = options.trainSequences ?? Math.floor(count / 2);
    if (trainCount >= count) {
      throw new InputError(
        `--train-sequences ${trainCount} leaves none of the ${count} sequences to test on`,
      );
    }
    const encoder = loadDenseFeatures(options.checkpoint, pickDevice(options.device));
    const sets: DenseSet[] = [];
    try {
      sets.push(tourDenseSet(encoder, tour, tour.sequences.slice(0, trainCount), options.size));
      sets.push(tourDenseSet(encoder, tour, tour.sequences.slice(trainCount), options.size));
      const [train, test] = sets;
      manualSeed(options.seed); // the classifier's initial weights
      const result = trainDenseProbe(train, test, { ...options, classes: tour.classNames.length });
      console.log(
        JSON.stringify({
          checkpoint: encoder.source,
          train_frames: train.labels.length,
          test_frames: test.labels.length,
          mIoU: result.meanIou,
          pixel_accuracy: result.pixelAccuracy,
          iou: Object.fromEntries(tour.classNames.map((name, c) => [name, result.iou[c]])),
        }),
      );
    } finally {
      for (const set of sets) set.features.dispose();
    }
  },
});
