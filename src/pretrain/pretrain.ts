// pretrain(config): the whole training job as one library call, the one the command line, the
// demo, the tests and the benchmarks make. It validates the config, opens the data, joins a
// data-parallel job when the environment says so, trains into a run folder and, when the run
// is finished, draws its pictures.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { InputError, printNote, UsageError } from "../errors.ts";
import { readConfigFile, validateConfig } from "../options.ts";
import { type Device, manualSeed, pickDevice, pickPrecision, type Precision } from "../torch/index.ts";
import { DataParallel, placementFromEnv, type WorldPlacement } from "../train/data_parallel.ts";
import { RunFolder } from "../train/run_folder.ts";
import { type StepReport, train, type TrainSummary } from "../train/trainer.ts";
import { makeWritableFolder, removeEmptyFolders, removeStaleTemporaries } from "../util/folders.ts";
import { writeLossCurve } from "../viz/run_pictures.ts";
import { writeRunReport } from "../viz/run_report.ts";
import { isMethodName, methodEntry, methodNames, type PretrainConfig } from "./registry.ts";
import { runEnvironment } from "./run_environment.ts";
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

/**
 * A method's options from a preset, a config file and flags (each over the one before),
 * validated. A resumed run starts from the config it recorded, under all of these.
 */
export function resolveConfig(options: Record<string, unknown>, resume = false): PretrainConfig {
  const { config: file, method: flagMethod, preset: flagPreset, ...flags } = options;
  const saved = resume ? savedConfig(flags.out) : {};
  const fromFile = typeof file === "string" ? readConfigFile(file) : {};
  // A run's own config.json replays it; runs before environment.json recorded worldSize there.
  const { method: fileMethod, preset: filePreset, worldSize: _worldSize, ...fileOptions } = fromFile;
  const preset = flagPreset ?? filePreset;
  const method = flagMethod ?? fileMethod ?? saved.method ?? "dino";
  if (!isMethodName(method)) {
    throw new UsageError(
      `--method ${String(method)} is not one onevideo trains; use ${methodNames.join(", ")}`,
    );
  }
  const entry = methodEntry(method);
  if (preset !== undefined && !Object.hasOwn(entry.presets, String(preset))) {
    const names = Object.keys(entry.presets).join(", ");
    throw new UsageError(`--preset ${String(preset)} is not one onevideo has; use ${names}`);
  }
  const presetOptions = preset === undefined ? {} : entry.presets[preset as keyof typeof entry.presets];
  const recorded = Object.fromEntries(
    Object.entries(saved).filter(([key]) => {
      const known = key in entry.options;
      if (!known && key !== "method")
        printNote(`the run's recorded option '${key}' is not one onevideo has now; ignored`);
      return known;
    }),
  );
  const layers = [recorded, presetOptions, fileOptions, flags];
  return validateConfig(entry.schema, { ...overlay(layers), method });
}

/** Options that say one thing two ways: a layer that sets one drops the other from the layers below. */
const alternatives = [["warmupEpochs", "warmupRatio"]];

/** The layers merged, each over the ones before it. */
function overlay(layers: Record<string, unknown>[]): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  for (const layer of layers) {
    for (const group of alternatives) {
      if (!group.some((key) => key in layer)) continue;
      for (const key of group) if (!(key in layer)) delete merged[key];
    }
    Object.assign(merged, layer);
  }
  return merged;
}

/** The config a run folder recorded, for --resume (what is not an option, such as worldSize, left out). */
function savedConfig(out: unknown): Record<string, unknown> {
  if (typeof out !== "string") throw new UsageError("--resume needs --out <the run folder to continue>");
  const run = new RunFolder(resolve(out));
  let config: Record<string, unknown> | null;
  try {
    config = run.readConfig();
  } catch (error) {
    throw new InputError(
      `${run.configPath} does not read (${(error as Error).message}); the run cannot be resumed`,
    );
  }
  if (config === null) {
    throw new InputError(`--resume: ${run.path} holds no run (no config.json); start one without --resume`);
  }
  const { worldSize: _worldSize, ...options } = config;
  return options;
}

/**
 * Checks the folder a run is about to write, before any work, and makes it; touches nothing it
 * does not own. Returns the folders it made, outermost first.
 */
function prepareRunFolder(run: RunFolder, resume: boolean): string[] {
  const stale = [run.path, run.checkpointsDir, run.picturesDir].flatMap(removeStaleTemporaries);
  if (stale.length > 0)
    printNote(`removed ${stale.length} temporary file(s) a killed run left in ${run.path}`);
  if (!resume) checkNewRunFolder(run);
  return makeWritableFolder(run.path, "the run to --out");
}

/** Refuses, before any work, an --out that is a file, a run or a folder of other files. */
export function checkNewRunFolder(run: RunFolder): void {
  if (existsSync(run.path)) {
    if (!statSync(run.path).isDirectory()) throw new InputError(`--out ${run.path} is a file; give a folder`);
    if (run.holdsRun()) {
      const fresh = run.latestCheckpoint() === null;
      throw new InputError(
        fresh
          ? `${run.path} holds a run stopped before its first checkpoint; add --resume to start it again from step 0, or choose another --out`
          : `${run.path} already holds a run; add --resume to continue it, or choose another --out`,
      );
    }
    if (readdirSync(run.path).length > 0) {
      throw new InputError(
        `--out ${run.path} holds files and is not a run folder; give an empty or new folder (nothing was touched)`,
      );
    }
  }
}

/** Trains an encoder as `config` says; returns the run folder and how the loss went. */
export async function pretrain(
  config: Record<string, unknown>,
  options: PretrainOptions = {},
): Promise<PretrainResult> {
  const resume = options.resume === true;
  const validated = resolveConfig(config, resume);
  requireSource(validated);
  const placement = placementFromEnv();
  const device = pickDevice(validated.device, placement.localRank, placement.worldSize);
  const precision = pickPrecision(validated.precision, device);
  const run = new RunFolder(
    resolve(
      validated.out ?? join("runs", `${validated.method}-${new Date().toISOString().replace(/[:.]/g, "-")}`),
    ),
  );
  const made = placement.rank === 0 ? prepareRunFolder(run, resume) : [];
  try {
    return await trainInto(run, validated, { ...options, resume }, { device, precision, placement });
  } catch (error) {
    removeEmptyFolders(made); // a start that failed leaves nothing behind
    throw error;
  }
}

async function trainInto(
  run: RunFolder,
  validated: PretrainConfig,
  options: PretrainOptions & { resume: boolean },
  job: { device: Device; precision: Precision; placement: WorldPlacement },
): Promise<PretrainResult> {
  const { device, precision, placement } = job;
  const { resume } = options;
  const entry = methodEntry(validated.method);
  const parallel = DataParallel.join(
    placement,
    device === "cpu" ? "gloo" : "nccl",
    validated.collectiveTimeout * 1000,
  );
  try {
    // Rank 0 decodes the video into the frame store first; the others then read it.
    const wholeClips = entry.readsClips(validated);
    const leaderSource = parallel.isLeader ? await openSource(validated, wholeClips) : null;
    parallel.averageNumber(0); // a barrier
    const source = leaderSource ?? (await openSource(validated, wholeClips));
    try {
      manualSeed(validated.seed); // the initial weights follow the seed
      const method = entry.create(validated);
      const summary = await train({
        method,
        source,
        settings: { ...validated, precision },
        run,
        device,
        resume,
        stopAfterStep: options.stopAfterStep,
        parallel,
        onProgress: options.onProgress,
        record: { ...validated, precision },
        environment: runEnvironment(device, precision, parallel.worldSize),
      });
      // Only a finished run exports weights (and only rank 0 writes).
      if (summary.weights !== "") {
        writeLossCurve(run);
        entry.pictures?.(run, method, source);
      }
      if (parallel.isLeader) writeRunReport(run); // finished or stopped, the run's page
      return { ...summary, runDir: run.path };
    } finally {
      source.close();
    }
  } finally {
    parallel.leave();
  }
}
