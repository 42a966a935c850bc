// onevideo eval davis: segment DAVIS-2017 sequences by label propagation with a frozen
// encoder, write the masks, and score them with J and F.
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";
import { makeWritableFolder } from "../util/folders.ts";
import { checkpointOption, deviceOption, outOption } from "../options.ts";
import { pickDevice } from "../torch/index.ts";
import { defineCommand } from "./command.ts";
import { listSequences } from "../data/davis.ts";
import { scoreDavis } from "../eval/davis_score.ts";
import { loadDenseFeatures } from "../eval/dense_features.ts";
import { dinoPropagation } from "../eval/label_propagation.ts";
import { segmentSequence } from "../eval/video_segmentation.ts";

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

export const command = defineCommand({
  name: "eval davis",
  usage: "onevideo eval davis --checkpoint <run|file> --davis <root> --out <dir> [options]",
  options: davisOptions,
  notes: ["Writes <out>/<sequence>/<frame>.png and prints one JSON line: J, F, JF and per-sequence scores."],
  run(options) {
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
    console.log(JSON.stringify(score));
  },
});
