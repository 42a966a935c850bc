// onevideo pretrain: learn an encoder from a video (or an image folder) with a method, in this
// process or, with --nproc-per-node, in data-parallel worker processes it launches.
import { constants } from "node:os";
import { z } from "zod";
import { InputError } from "../errors.ts";
import { describeOptions, jsonOption } from "../options.ts";
import { pretrain, type PretrainResult, resolveConfig } from "../pretrain/pretrain.ts";
import { isMethodName, methodEntry, methodNames, type PretrainConfig } from "../pretrain/registry.ts";
import { requireSource } from "../pretrain/sources.ts";
import { placementFromEnv } from "../train/data_parallel.ts";
import { launchLocalWorkers, launchOptionsFrom } from "../train/launch.ts";
import { type Command, printResult } from "./command.ts";

const jobFlags = {
  method: z.string().describe("dino, dora or vader"),
  preset: z.string().describe("named option set, e.g. demo"),
  config: z.string().describe("JSON or YAML options"),
  resume: z.boolean().describe("continue the run in --out from its last checkpoint"),
  json: jsonOption,
};
const launcherFlags = {
  nprocPerNode: z.number(),
  nnodes: z.number(),
  nodeRank: z.number(),
  masterAddr: z.string(),
  masterPort: z.number(),
};

export function pretrainHelp(method: string): string {
  const name = isMethodName(method) ? method : "dino";
  return [
    "usage: onevideo pretrain --method dino|dora|vader (--video <file> | --images <folder> | --dataset fashion-mnist) [options]",
    "",
    "  --method dino|dora|vader       the self-supervised method (dora learns from a video's clips;",
    "                                 vader learns dense per-pixel features)",
    "  --preset demo                  sizes for two CPU cores and minutes (file and flags override it)",
    "  --config <file>                JSON or YAML options; flags override it",
    "  --resume                       continue the run in --out from its last checkpoint",
    "  --json                         print the result as one JSON object (the last line on stdout)",
    "",
    "data-parallel training (c10d: Gloo on CPU, NCCL on CUDA; --batch-size is per process):",
    "  --nproc-per-node N             start N worker processes on this machine",
    "  --nnodes M --node-rank R       M machines; run the same command on each with its R",
    "  --master-addr A --master-port P  where rank 0 listens (default 127.0.0.1, a free port)",
    "  (or launch the workers yourself: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT)",
    "",
    `${name} options ('onevideo pretrain --method <other> --help' lists another method's):`,
    ...describeOptions(methodEntry(name).options),
  ].join("\n");
}

/**
 * A run's end: how the loss went, the weights and last the run folder (with --json the summary);
 * a stopped run says how to continue it, on stderr, and exits with the signal's code.
 */
export function reportRun(summary: PretrainResult, json: boolean): void {
  if (summary.stoppedBy) {
    process.exitCode = 128 + constants.signals[summary.stoppedBy];
    process.stderr.write(
      `onevideo: stopped at step ${summary.steps}; continue with: onevideo pretrain --resume --out ${summary.runDir}\n`,
    );
    if (json) printResult(true, [], summary);
    return;
  }
  const loss = `loss ${summary.firstLoss.toFixed(4)} -> ${summary.lastLoss.toFixed(4)}`;
  printResult(
    json,
    [`trained ${summary.steps} steps: ${loss}`, `weights: ${summary.weights}`, summary.runDir],
    summary,
  );
}

/** argv without the launcher's flags (and their values), for the workers. */
function withoutLauncherFlags(argv: string[]): string[] {
  const flags = ["nproc-per-node", "nnodes", "node-rank", "master-addr", "master-port"];
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith("--") ? argv[i].slice(2).split("=")[0] : "";
    if (!flags.includes(name)) kept.push(argv[i]);
    else if (!argv[i].includes("=")) i++; // its value
  }
  return kept;
}

interface PretrainJob {
  config: PretrainConfig;
  resume: boolean;
  json: boolean;
  launcher: Record<string, unknown>;
}

export const command: Command<PretrainJob> = {
  name: "pretrain",
  // Every method's options are flags; the chosen method's schema refuses the others.
  flags: {
    ...Object.assign({}, ...methodNames.map((name) => methodEntry(name).options)),
    ...jobFlags,
    ...launcherFlags,
  },
  help: (raw) => pretrainHelp(String(raw.method ?? "dino")),
  parse(raw) {
    const { resume, json, nprocPerNode, nnodes, nodeRank, masterAddr, masterPort, ...options } = raw;
    return {
      config: resolveConfig(options, resume === true),
      resume: resume === true,
      json: json === true,
      launcher: { nprocPerNode, nnodes, nodeRank, masterAddr, masterPort },
    };
  },
  async run({ config, resume, json, launcher }) {
    if (Object.values(launcher).some((value) => value !== undefined)) {
      if (process.env.RANK !== undefined) {
        throw new InputError(
          "--nproc-per-node inside a launched worker (RANK is set); give it to one launcher only",
        );
      }
      requireSource(config); // here, so that a bad option is one line, not one per worker
      process.exitCode = await launchLocalWorkers({
        ...launchOptionsFrom(launcher),
        // The workers run this same command line, less the launcher flags.
        workerArgs: ["pretrain", ...withoutLauncherFlags(process.argv.slice(3))],
        // Long enough for the others to print their own line (a peer's death breaks their next
        // collective at once), short enough that one waiting at the rendezvous for a rank that
        // died before joining is not left there for the whole timeout.
        graceMs: Math.min(config.collectiveTimeout, 30) * 1000,
      });
      return;
    }
    const summary = await pretrain(config, { resume });
    if (placementFromEnv().rank === 0) reportRun(summary, json);
    else if (summary.stoppedBy) process.exitCode = 128 + constants.signals[summary.stoppedBy];
  },
};
