// onevideo demo: pretrain a small ViT with DINO on a real street video in a few
// minutes on a CPU, then show what it learned. The last line printed is the run folder.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { demoPresets } from "../train/presets.ts";
import { InputError } from "../errors.ts";
import { parseArgs } from "./args.ts";
import { resolveDinoConfig, runPretrain } from "./pretrain.ts";

export const demoVideo = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";

/** Small enough for two CPU cores in a few minutes; large enough to learn something. */
export const demoOptions = { video: demoVideo, ...demoPresets.dino };

export async function demoCommand(argv: string[]): Promise<void> {
  const { options } = parseArgs(argv);
  if (options.help) {
    console.log(
      "usage: onevideo demo [--out <dir>] [--steps N]\n\nPretrains a ViT-Tiny with DINO on opencv-doc's vtest.avi and writes pictures.",
    );
    return;
  }
  if (!existsSync(demoVideo)) {
    throw new InputError(
      `the demo video ${demoVideo} is missing; run 'bash scripts/setup.sh' (it installs opencv-doc)`,
    );
  }
  const out = resolve(
    String(options.out ?? join("runs", `demo-${new Date().toISOString().replace(/[:.]/g, "-")}`)),
  );
  const config = resolveDinoConfig({ ...demoOptions, ...options, out });
  const summary = await runPretrain(config, false);
  console.log(
    `trained ${summary.steps} steps: loss ${summary.firstLoss.toFixed(4)} -> ${summary.lastLoss.toFixed(4)}`,
  );
  console.log(summary.runDir);
}
