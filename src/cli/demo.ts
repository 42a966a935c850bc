// onevideo demo: build a short generated tour, train a small ViT on it for a few minutes on a
// CPU, and show on ground truth what it learned, next to the same network untrained. The last
// line printed is the run folder (or, with --json, the result as one JSON object).
import { join, resolve } from "node:path";
import { dinoOptions } from "../methods/dino.ts";
import { jsonOption } from "../options.ts";
import { demoKnnImages, runDemo, type DemoPlan, type DemoResult } from "../pretrain/demo.ts";
import { printResult, type Command } from "./command.ts";
import { reportRun } from "./pretrain.ts";

function describePlan(plan: DemoPlan): string {
  return [
    `onevideo demo: what it will do`,
    `  footage  a generated ${plan.tourSeconds / 60}-minute tour of Fashion-MNIST garments over photos (${plan.tour})`,
    `  method   ${plan.method}, preset ${plan.preset}: ${plan.arch}/${plan.patchSize} at ${plan.imageSize} px, ${plan.steps} steps`,
    `  measure  k-NN top-1 on Fashion-MNIST (${demoKnnImages.trainLimit} train / ${demoKnnImages.testLimit} test images), untrained vs trained`,
    `  output   ${plan.out}`,
    "",
  ].join("\n");
}

function resultTable(result: DemoResult): string[] {
  const column = (value: string) => value.padStart(10);
  const gain = `${result.gain >= 0 ? "+" : ""}${result.gain.toFixed(1)}`;
  return [
    "",
    `${result.measure}`,
    `  ${column("untrained")}${column("trained")}${column("gain")}`,
    `  ${column(result.untrained.toFixed(1))}${column(result.trained.toFixed(1))}${column(gain)}`,
    `spread: sd ${result.spread.toFixed(1)} over ${result.spreadOf}`,
    `loss ${result.lossFirstFifth.toFixed(4)} -> ${result.lossLastFifth.toFixed(4)} over ${result.steps} steps (means of the first and last fifth)`,
    `pictures: ${join(result.run, "pictures")}`,
    result.run,
  ];
}

export const command: Command<Record<string, unknown>> = {
  name: "demo",
  // Any DINO option overrides the demo's.
  flags: { ...dinoOptions, json: jsonOption },
  help: () =>
    "usage: onevideo demo [--out <dir>] [--steps N] [--seed N] [--json]\n\n" +
    "Builds a 2-minute generated tour (cached), pretrains a ViT-Nano with DINO's cpu preset on it, and\n" +
    "scores the network by k-NN on Fashion-MNIST before and after. About 4 minutes on two cores.\n" +
    "Any DINO option (onevideo pretrain --help) overrides the demo's; --json prints the result as one JSON object.",
  parse: (raw) => raw,
  async run({ json, ...options }) {
    const out = resolve(
      String(options.out ?? join("runs", `demo-${new Date().toISOString().replace(/[:.]/g, "-")}`)),
    );
    const result = await runDemo(out, options, (plan) => process.stderr.write(describePlan(plan)));
    if (result.stoppedBy) return reportRun(result.summary, json === true);
    const { summary: _summary, stoppedBy: _stopped, ...shown } = result;
    printResult(json === true, resultTable(result), shown);
  },
};
