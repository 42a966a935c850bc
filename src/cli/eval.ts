// onevideo eval: the evaluation subcommands, and davis-score, which scores existing DAVIS masks.
import { z } from "zod";
import { scoreDavis } from "../eval/davis_score.ts";
import { commandList, type CommandGroup, type CommandTable, defineCommand } from "./command.ts";

const commands: CommandTable = {
  knn: {
    summary: "weighted k-NN accuracy of frozen [CLS] features (DINO's protocol)",
    load: async () => (await import("./eval_knn.ts")).command,
  },
  linear: {
    summary: "linear probe on frozen features: top-1/top-5 accuracy (DINO's protocol)",
    load: async () => (await import("./eval_linear.ts")).command,
  },
  davis: {
    summary: "DAVIS-2017 video object segmentation by label propagation, scored J&F",
    load: async () => (await import("./eval_davis.ts")).command,
  },
  dense: {
    summary: "dense linear probe on a tour's held-out sequences: per-class IoU and mIoU",
    load: async () => (await import("./eval_dense.ts")).command,
  },
  discovery: {
    summary: "DoRA's discovery and tracking scored against a tour's exact instance masks",
    load: async () => (await import("./eval_discovery.ts")).command,
  },
  "davis-score": {
    summary: "J, F and J&F of existing DAVIS-2017 semi-supervised masks",
    load: async () => davisScore,
  },
};

export const group: CommandGroup = {
  commands,
  usage: [
    "usage: onevideo eval <subcommand> [options]",
    "",
    "subcommands:",
    ...commandList(commands),
    "",
    "'onevideo eval <subcommand> --help' lists a subcommand's options.",
  ].join("\n"),
};

const davisScore = defineCommand({
  name: "eval davis-score",
  usage: "onevideo eval davis-score --pred <dir> --gt <dir> [options]",
  options: {
    pred: z.string().describe("predicted masks: <dir>/<sequence>/<frame>.png, palette PNGs of object ids"),
    gt: z.string().describe("the annotations: the same layout, or a DAVIS-2017 root (its Annotations/480p)"),
    split: z
      .string()
      .optional()
      .describe("with a DAVIS root: the ImageSets/2017 list to score (default val)"),
    sequences: z.string().optional().describe("score only these sequences, comma-separated"),
    excludeVoid: z
      .boolean()
      .default(false)
      .describe("leave void (255) pixels out; davis2017-evaluation counts them as background"),
  },
  notes: ["Prints one JSON line: J, F, JF (means over all objects) and per-sequence scores."],
  run(options) {
    const score = scoreDavis(options.pred, options.gt, {
      split: options.split,
      sequences: options.sequences?.split(",").filter(Boolean),
      excludeVoid: options.excludeVoid,
    });
    console.log(JSON.stringify(score));
  },
});
