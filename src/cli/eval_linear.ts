// onevideo eval linear: DINO's linear probe on frozen features of a labelled image set.
import { evaluateLinear, linearOptions } from "../eval/linear_evaluation.ts";
import { recordEvaluation } from "../viz/run_report.ts";
import { defineCommand } from "./command.ts";

export const command = defineCommand({
  name: "eval linear",
  usage:
    "onevideo eval linear --checkpoint <run|file> (--dataset fashion-mnist | --train <dir> --test <dir>)",
  options: linearOptions,
  notes: [
    "DINO's protocol (eval_linear.py): a linear layer (weights normal(0, 0.01), bias 0) trained",
    "with cross-entropy by SGD on the frozen encoder's features, its learning rate decayed to 0 by",
    "a cosine over the epochs. Every epoch the train images are new random resized crops (scale",
    "0.08-1) of the original images with random flips, through the backbone again; the test set",
    "is the evaluation view (Resize to 256/224 of the size, bicubic, and the centre crop), scored",
    "every --val-every epochs. That is meant for a GPU; --cached-features trains on the train",
    "images' evaluation view instead, whose features are computed once: fast, and not the protocol.",
    "",
    "Prints one JSON line: the best top-1 (%) over the evaluations, as DINO reports it, with its",
    "epoch and top-5 (null under 5 classes), and the last epoch's top-1.",
  ],
  run(options) {
    const result = evaluateLinear(options);
    recordEvaluation(options.checkpoint, "eval linear", result); // kept with the run, in its report
    console.log(JSON.stringify(result));
  },
});
