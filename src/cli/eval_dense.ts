// onevideo eval dense: a dense (per-pixel) linear probe on frozen patch features of a tour's
// held-out sequences, trained on the first sequences and scored by mean IoU on the rest.
import { denseOptions, evaluateDense } from "../eval/dense_evaluation.ts";
import { recordEvaluation } from "../viz/run_report.ts";
import { defineCommand } from "./command.ts";

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
    const result = evaluateDense(options);
    recordEvaluation(options.checkpoint, "eval dense", result); // kept with the run, in its report
    console.log(JSON.stringify(result));
  },
});
