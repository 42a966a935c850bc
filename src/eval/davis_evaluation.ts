// DAVIS-2017 video object segmentation by label propagation with a frozen encoder, as one call:
// its options (the flags of `onevideo eval davis`); it writes the masks and scores them.
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";
import { listSequences } from "../data/davis.ts";
import { checkpointOption, deviceOption, outOption, validateConfig } from "../options.ts";
import { pickDevice } from "../torch/index.ts";
import { makeWritableFolder } from "../util/folders.ts";
import { type DavisScore, scoreDavis } from "./davis_score.ts";
import { loadDenseFeatures } from "./dense_features.ts";
import { dinoPropagation } from "./label_propagation.ts";
import { segmentSequence } from "./video_segmentation.ts";

export const davisOptions = {
  checkpoint: checkpointOption,
  davis: z.string().describe("DAVIS-2017 root (JPEGImages/480p, Annotations/480p, ImageSets)"),
  out: outOption.describe("folder for the predicted masks and scores.json"),
  split: z.string().optional().describe("ImageSets/2017 list to run (default: every annotated sequence)"),
  sequences: z.string().optional().describe("only these sequences, comma-separated"),
  size: z.number().int().positive().default(480).describe("short side the encoder sees"),
  contextFrames: z
    .number()
    .int()
    .min(0)
    .default(dinoPropagation.contextFrames)
    .describe("previous frames used"),
  topK: z.number().int().positive().default(dinoPropagation.topK).describe("sources kept per patch"),
  neighborhood: z
    .number()
    .int()
    .min(0)
    .default(dinoPropagation.neighborhood)
    .describe("patch radius (0: all)"),
  temperature: z.number().positive().default(dinoPropagation.temperature).describe("affinity temperature"),
  device: deviceOption,
};

export type DavisEvaluationOptions = z.input<z.ZodObject<typeof davisOptions>>;

/** Writes <out>/<sequence>/<frame>.png and <out>/scores.json; returns J, F, JF and per-sequence scores. */
export function evaluateDavis(given: DavisEvaluationOptions): DavisScore {
  const options = validateConfig(z.object(davisOptions).strict(), given, "eval davis");
  const sequences =
    options.sequences?.split(",").filter(Boolean) ?? listSequences(options.davis, options.split);
  const encoder = loadDenseFeatures(options.checkpoint, pickDevice(options.device));
  const out = resolve(options.out);
  makeWritableFolder(out, "the masks to --out");
  for (const sequence of sequences) {
    segmentSequence(encoder, options.davis, sequence, join(out, sequence), {
      ...options,
      shortSide: options.size,
    });
  }
  const score = scoreDavis(out, options.davis, { sequences });
  writeFileSync(join(out, "scores.json"), JSON.stringify(score, null, 1));
  return score;
}
