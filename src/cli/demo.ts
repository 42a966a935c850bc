// onevideo demo: pretrain a small ViT with DINO on a real street video in a few minutes on a
// CPU, then show what it learned. The last line printed is the run folder (or, with --json, the
// summary).
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { InputError } from "../errors.ts";
import { dinoOptions } from "../methods/dino.ts";
import { jsonOption } from "../options.ts";
import { demoOptions, demoVideo } from "../pretrain/demo.ts";
import { pretrain } from "../pretrain/pretrain.ts";
import type { Command } from "./command.ts";
import { reportRun } from "./pretrain.ts";
import { installAdvice } from "../util/system.ts";

export const command: Command<Record<string, unknown>> = {
  name: "demo",
  // Any DINO option overrides the demo's.
  flags: { ...dinoOptions, json: jsonOption },
  help: () =>
    "usage: onevideo demo [--out <dir>] [--steps N] [--json]\n\nPretrains a ViT-Tiny with DINO on opencv-doc's vtest.avi and writes pictures.\nAny DINO option (onevideo pretrain --help) overrides the demo's; --json prints the result as one JSON object.",
  parse: (raw) => raw,
  async run({ json, ...options }) {
    if (!existsSync(demoVideo)) {
      throw new InputError(`the demo video ${demoVideo} is missing; ${installAdvice(["opencv-doc"])}`);
    }
    const out = resolve(
      String(options.out ?? join("runs", `demo-${new Date().toISOString().replace(/[:.]/g, "-")}`)),
    );
    const summary = await pretrain({ ...demoOptions, ...options, out });
    reportRun(summary, json === true);
  },
};
