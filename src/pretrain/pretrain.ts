// pretrain(config): the whole training job as one library call, the one the command line, the
// demo, the tests and the benchmarks make. It validates the config, opens the data, joins a
// data-parallel job when the environment says so, trains into a run folder and, when the run
// is finished, draws its pictures.
import { join, resolve } from "node:path";
import { InputError } from "../errors.ts";
import { readConfigFile, validateConfig } from "../options.ts";
import { manualSeed, pickDevice, pickPrecision } from "../torch/index.ts";
import { DataParallel, placementFromEnv } from "../train/data_parallel.ts";
import { RunFolder } from "../train/run_folder.ts";
import { type StepReport, train, type TrainSummary } from "../train/trainer.ts";
import { writeLossCurve } from "../viz/run_pictures.ts";
import { isMethodName, methodEntry, methodNames, type PretrainConfig } from "./registry.ts";
import { openSource, requireSource } from "./sources.ts";

export interface PretrainOptions {
  /** Continue the run in config.out from its last checkpoint. */
  resume?: boolean;
  /** Stop after this step as if interrupted (tests of resumption, time-boxed sessions). */
  stopAfterStep?: number;
  /** Told of every step, and null when the run stops; default: a progress line on stderr. */
  onProgress?: (report: StepReport | null) => void;
}

export type PretrainResult = TrainSummary & { runDir: string };

/** A method's options from a preset, a config file and flags (each over the one before), validated. */
export function resolveConfig(options: Record<string, unknown>): PretrainConfig {
  const { config: file, method: flagMethod, preset, ...flags } = options;
  const fromFile = typeof file === "string" ? readConfigFile(file) : {};
  const { method: fileMethod, ...fileOptions } = fromFile;
  const method = flagMethod ?? fileMethod ?? "dino";
  if (!isMethodName(method)) {
    throw new InputError(
      `--method ${String(method)} is not one onevideo trains; use ${methodNames.join(", ")}`,
    );
  }
  const entry = methodEntry(method);
  if (preset !== undefined && !Object.hasOwn(entry.presets, String(preset))) {
    const names = Object.keys(entry.presets).join(", ");
    throw new InputError(`--preset ${String(preset)} is not one onevideo has; use ${names}`);
  }
  const presetOptions = preset === undefined ? {} : entry.presets[preset as keyof typeof entry.presets];
  return validateConfig(entry.schema, { ...presetOptions, ...fileOptions, ...flags, method });
}

/** Trains an encoder as `config` says; returns the run folder and how the loss went. */
export async function pretrain(
  config: Record<string, unknown>,
  options: PretrainOptions = {},
): Promise<PretrainResult> {
  const validated = resolveConfig(config);
  const entry = methodEntry(validated.method);
  requireSource(validated);
  const placement = placementFromEnv();
  const device = pickDevice(validated.device, placement.localRank, placement.worldSize);
  const precision = pickPrecision(validated.precision, device);
  const run = new RunFolder(
    resolve(
      validated.out ?? join("runs", `${validated.method}-${new Date().toISOString().replace(/[:.]/g, "-")}`),
    ),
  );
  if (!options.resume && run.holdsRun()) {
    throw new InputError(
      `${run.path} already holds a run; add --resume to continue it, or choose another --out`,
    );
  }
  const parallel = DataParallel.join(
    placement,
    device === "cpu" ? "gloo" : "nccl",
    validated.collectiveTimeout * 1000,
  );
  try {
    // Rank 0 decodes the video into the frame cache first; the others then read it.
    const wholeClips = entry.readsClips(validated);
    const leaderSource = parallel.isLeader ? await openSource(validated, wholeClips) : null;
    parallel.averageNumber(0); // a barrier
    const source = leaderSource ?? (await openSource(validated, wholeClips));
    try {
      manualSeed(validated.seed); // the initial weights follow the seed
      const method = entry.create(validated);
      if (parallel.isLeader && !options.resume) {
        run.writeConfig({ ...validated, precision, worldSize: parallel.worldSize });
      }
      const summary = await train({
        method,
        source,
        settings: { ...validated, precision },
        run,
        device,
        resume: options.resume,
        stopAfterStep: options.stopAfterStep,
        parallel,
        onProgress: options.onProgress,
      });
      // Only a finished run exports weights (and only rank 0 writes).
      if (summary.weights !== "") {
        writeLossCurve(run);
        entry.pictures?.(run, method, source);
      }
      return { ...summary, runDir: run.path };
    } finally {
      source.close();
    }
  } finally {
    parallel.leave();
  }
}
