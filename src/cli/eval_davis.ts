// onevideo eval davis: segment DAVIS-2017 sequences by label propagation with a frozen
// encoder, write the masks, and score them with J and F.
import { davisOptions, evaluateDavis } from "../eval/davis_evaluation.ts";
import { recordEvaluation } from "../viz/run_report.ts";
import { defineCommand } from "./command.ts";

export const command = defineCommand({
  name: "eval davis",
  usage: "onevideo eval davis --checkpoint <run|file> --davis <root> --out <dir> [options]",
  options: davisOptions,
  notes: ["Writes <out>/<sequence>/<frame>.png and prints one JSON line: J, F, JF and per-sequence scores."],
  run(options) {
    const result = evaluateDavis(options);
    recordEvaluation(options.checkpoint, "eval davis", result); // kept with the run, in its report
    console.log(JSON.stringify(result));
  },
});
