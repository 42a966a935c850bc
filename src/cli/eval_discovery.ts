// onevideo eval discovery: DoRA's discovery and tracking with a frozen encoder on a tour's
// held-out sequences, scored against their exact instance masks.
import { discoveryOptions, evaluateDiscovery } from "../eval/discovery_evaluation.ts";
import { recordEvaluation } from "../viz/run_report.ts";
import { defineCommand } from "./command.ts";

export const command = defineCommand({
  name: "eval discovery",
  usage: "onevideo eval discovery --checkpoint <run|file> --tour <dir> [options]",
  options: discoveryOptions,
  notes: [
    "Each clip's first frame: the heads' [CLS] attention discovers objects (Sinkhorn-Knopp over",
    "DoRA's prototypes); cross-attention follows them through the clip. For every object of every",
    "frame, the best IoU among the discovered masks. Prints one JSON line: the mean over objects",
    "and frames (meanIou), the share found at IoU > 0.5 (found), and the same per sequence.",
  ],
  run(options) {
    const result = evaluateDiscovery(options);
    recordEvaluation(options.checkpoint, "eval discovery", result); // kept with the run, in its report
    console.log(JSON.stringify(result));
  },
});
