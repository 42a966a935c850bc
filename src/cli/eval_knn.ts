// onevideo eval knn: DINO's weighted k-NN on frozen [CLS] features of a labelled image set.
import { evaluateKnn, knnOptions } from "../eval/knn_evaluation.ts";
import { recordEvaluation } from "../viz/run_report.ts";
import { defineCommand } from "./command.ts";

export const command = defineCommand({
  name: "eval knn",
  usage: "onevideo eval knn --checkpoint <run|file> (--dataset fashion-mnist | --train <dir> --test <dir>)",
  options: knnOptions,
  notes: ["Prints one JSON line: top-1 and top-5 accuracy (%) for every k."],
  run(options) {
    const result = evaluateKnn(options);
    recordEvaluation(options.checkpoint, "eval knn", result); // kept with the run, in its report
    console.log(JSON.stringify(result));
  },
});
