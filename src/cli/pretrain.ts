// onevideo pretrain: learn an encoder from a video (or an image folder) with a method.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { FashionMnistSource } from "../data/fashion_mnist_source.ts";
import { ClipSource } from "../data/clip_source.ts";
import { FrameSource, type ImageSource } from "../data/frame_source.ts";
import { ImageFolderSource } from "../data/image_folder.ts";
import { type DinoConfig, DinoMethod, dinoConfigSchema, dinoOptions } from "../methods/dino.ts";
import { type DoraConfig, doraConfigSchema, DoraMethod, doraOptions } from "../methods/dora.ts";
import { type VaderConfig, vaderConfigSchema, VaderMethod, vaderOptions } from "../methods/vader.ts";
import { cuda, type Device, manualSeed, type Precision } from "../torch/index.ts";
import { describeOptions, readConfigFile, validateConfig } from "../train/config.ts";
import { DataParallel, placementFromEnv } from "../train/data_parallel.ts";
import { launchLocalWorkers, launchOptionsFrom } from "../train/launch.ts";
import { demoPresets, presetNames } from "../train/presets.ts";
import { train, type TrainSummary } from "../train/trainer.ts";
import { FrameCache } from "../video/frame_cache.ts";
import { InputError } from "../errors.ts";
import { writeAttentionPictures, writeLossCurve, writeObjectPictures } from "../viz/run_pictures.ts";
import { parseArgs } from "./args.ts";

export type MethodName = "dino" | "dora" | "vader";

const methodOptions = { dino: dinoOptions, dora: doraOptions, vader: vaderOptions };
const methodSchemas = { dino: dinoConfigSchema, dora: doraConfigSchema, vader: vaderConfigSchema };
const methodNames = Object.keys(methodOptions) as MethodName[];

export function pretrainHelp(method: MethodName): string {
  return [
    "usage: onevideo pretrain --method dino|dora|vader (--video <file> | --images <folder> | --dataset fashion-mnist) [options]",
    "",
    "  --method dino|dora|vader       the self-supervised method (dora learns from a video's clips;",
    "                                 vader learns dense per-pixel features)",
    "  --preset demo                  sizes for two CPU cores and minutes (file and flags override it)",
    "  --config <file>                JSON or YAML options; flags override it",
    "  --resume                       continue the run in --out from its last checkpoint",
    "",
    "data-parallel training (c10d: Gloo on CPU, NCCL on CUDA; --batch-size is per process):",
    "  --nproc-per-node N             start N worker processes on this machine",
    "  --nnodes M --node-rank R       M machines; run the same command on each with its R",
    "  --master-addr A --master-port P  where rank 0 listens (default 127.0.0.1, a free port)",
    "  (or launch the workers yourself: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT)",
    "",
    `${method} options ('onevideo pretrain --method <other> --help' lists another method's):`,
    ...describeOptions(methodOptions[method]),
  ].join("\n");
}

/** The device asked for, else cuda when there is one; a data-parallel worker takes GPU LOCAL_RANK. */
export function pickDevice(requested: string | undefined, localRank = 0, worldSize = 1): Device {
  if (requested?.startsWith("cuda") && !cuda.isAvailable()) {
    throw new InputError(
      `--device ${requested}: this libtorch has no CUDA or no GPU is visible; use --device cpu`,
    );
  }
  const device = (requested ?? (cuda.isAvailable() ? "cuda" : "cpu")) as Device;
  if (device !== "cuda" || worldSize === 1) return device;
  if (localRank >= cuda.deviceCount()) {
    throw new InputError(
      `LOCAL_RANK ${localRank} has no GPU of its own (${cuda.deviceCount()} visible); start at most that many processes per machine`,
    );
  }
  return `cuda:${localRank}`;
}

/** The precision asked for, else bf16 on a GPU and fp32 on the CPU. */
export function pickPrecision(requested: Precision | undefined, device: Device): Precision {
  if (requested === "fp16" && device === "cpu") {
    throw new InputError(
      "--precision fp16 needs a GPU (the CPU autocasts to bf16); use --precision bf16 or fp32",
    );
  }
  return requested ?? (device.startsWith("cuda") ? "bf16" : "fp32");
}

/** Resolves flags and config file into the chosen method and its validated config. */
export function resolveConfig(options: Record<string, unknown>): {
  method: MethodName;
  config: DinoConfig | DoraConfig | VaderConfig;
} {
  const { config: file, method: flagMethod, preset, resume: _resume, help: _help, ...flags } = options;
  const fromFile = typeof file === "string" ? readConfigFile(file) : {};
  const { method: fileMethod, ...fileOptions } = fromFile;
  const method = flagMethod ?? fileMethod ?? "dino";
  if (!methodNames.includes(method as MethodName)) {
    throw new InputError(
      `--method ${String(method)} is not one onevideo trains; use ${methodNames.join(", ")}`,
    );
  }
  const name = method as MethodName;
  if (preset !== undefined && preset !== "demo") {
    throw new InputError(`--preset ${String(preset)} is not one onevideo has; use ${presetNames.join(", ")}`);
  }
  const presetOptions = preset === "demo" ? demoPresets[name] : {};
  return {
    method: name,
    config: validateConfig(methodSchemas[name], { ...presetOptions, ...fileOptions, ...flags }),
  };
}

/** Resolves flags and config file into a validated DINO config. */
export function resolveDinoConfig(options: Record<string, unknown>): DinoConfig {
  const { method, config } = resolveConfig({ ...options, method: options.method ?? "dino" });
  if (method !== "dino") throw new InputError("this command trains dino");
  return config as DinoConfig;
}

export async function runPretrain(
  config: DinoConfig | DoraConfig | VaderConfig,
  resume: boolean,
  stopAfterStep?: number,
  methodName: MethodName = "dino",
): Promise<TrainSummary & { runDir: string }> {
  if (config.video === undefined && config.images === undefined && config.dataset === undefined) {
    throw new InputError(
      "give the footage to learn from: --video <file> (or --images <folder>, --dataset fashion-mnist)",
    );
  }
  const placement = placementFromEnv();
  const device = pickDevice(config.device, placement.localRank, placement.worldSize);
  const precision = pickPrecision(config.precision, device);
  const runDir = resolve(
    config.out ?? join("runs", `${methodName}-${new Date().toISOString().replace(/[:.]/g, "-")}`),
  );
  if (!resume && existsSync(join(runDir, "config.json"))) {
    throw new InputError(
      `${runDir} already holds a run; add --resume to continue it, or choose another --out`,
    );
  }
  const wholeClips =
    methodName === "dora" || (methodName === "vader" && (config as VaderConfig).frameGap > 0);
  const parallel = DataParallel.join(
    placement,
    device === "cpu" ? "gloo" : "nccl",
    config.collectiveTimeout * 1000,
  );
  try {
    // Rank 0 decodes the video into the frame cache first; the others then read it.
    const leaderSource = parallel.isLeader ? await openSource(config, wholeClips) : null;
    parallel.averageNumber(0); // a barrier
    const source = leaderSource ?? (await openSource(config, wholeClips));
    return await trainWith(config, resume, stopAfterStep, methodName, {
      device,
      precision,
      runDir,
      parallel,
      source,
    });
  } finally {
    parallel.leave();
  }
}

async function trainWith(
  config: DinoConfig | DoraConfig | VaderConfig,
  resume: boolean,
  stopAfterStep: number | undefined,
  methodName: MethodName,
  job: { device: Device; precision: Precision; runDir: string; parallel: DataParallel; source: ImageSource },
): Promise<TrainSummary & { runDir: string }> {
  const { device, precision, runDir, parallel, source } = job;
  try {
    manualSeed(config.seed); // the initial weights follow the seed
    const method =
      methodName === "dora"
        ? new DoraMethod(config as DoraConfig)
        : methodName === "vader"
          ? new VaderMethod(config as VaderConfig)
          : new DinoMethod(config as DinoConfig);
    if (parallel.isLeader) {
      mkdirSync(runDir, { recursive: true });
      if (!resume) {
        const recorded = { method: methodName, ...config, precision, worldSize: parallel.worldSize };
        writeFileSync(join(runDir, "config.json"), JSON.stringify(recorded, null, 1));
      }
    }
    const settings = { ...config, precision };
    const summary = await train({
      method,
      source,
      settings,
      runDir,
      device,
      resume,
      stopAfterStep,
      parallel,
    });
    if (!parallel.isLeader || summary.steps < (config.steps ?? Number.POSITIVE_INFINITY))
      return { ...summary, runDir };
    writeLossCurve(runDir);
    if (method instanceof DinoMethod) writeAttentionPictures(runDir, method.teacher.backbone, source);
    if (method instanceof DoraMethod) {
      const { objects, ...discovery } = method.doraConfig;
      const heads = Array.from({ length: objects }, (_, head) => head);
      writeObjectPictures(runDir, method.teacher.backbone, source as ClipSource, heads, discovery);
    }
    return { ...summary, runDir };
  } finally {
    source.close();
  }
}

/** The training samples: a video's cached clip frames (whole clips for DoRA), or images. */
async function openSource(config: DinoConfig | VaderConfig, wholeClips: boolean): Promise<ImageSource> {
  const side = config.frameShortSide ?? Math.round(config.imageSize * 1.15);
  if (config.dataset === "fashion-mnist") return new FashionMnistSource(side, config.seed);
  if (config.images !== undefined) {
    return ImageFolderSource.open(config.images, { side, seed: config.seed, cacheRoot: config.cacheDir });
  }
  const cache = await FrameCache.open(config.video!, {
    shortSide: side,
    sampling: {
      clipLength: config.clipLength,
      frameStride: config.frameStride,
      clipSpacing: config.clipSpacing,
    },
    cacheRoot: config.cacheDir,
    onProgress: (done, total) => {
      if (process.stderr.isTTY)
        process.stderr.write(`\r\x1b[Kdecoding clips ${done}/${total}${done === total ? "\n" : ""}`);
    },
  });
  return wholeClips ? new ClipSource(cache, config.seed) : new FrameSource(cache, config.seed);
}

const launcherFlags = ["nproc-per-node", "nnodes", "node-rank", "master-addr", "master-port"];

/** argv without the launcher's flags (and their values), for the workers. */
function withoutLauncherFlags(argv: string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith("--") ? argv[i].slice(2).split("=")[0] : "";
    if (!launcherFlags.includes(name)) kept.push(argv[i]);
    else if (!argv[i].includes("=")) i++; // its value
  }
  return kept;
}

export async function pretrainCommand(argv: string[]): Promise<void> {
  const parsed = parseArgs(argv, new Set(["resume", "normLastLayer", "help"]));
  const { nprocPerNode, nnodes, nodeRank, masterAddr, masterPort, ...options } = parsed.options;
  const launcher = { nprocPerNode, nnodes, nodeRank, masterAddr, masterPort };
  if (options.help) {
    const method = methodNames.includes(options.method as MethodName)
      ? (options.method as MethodName)
      : "dino";
    console.log(pretrainHelp(method));
    return;
  }
  const { method, config } = resolveConfig(options);
  if (Object.values(launcher).some((value) => value !== undefined)) {
    if (process.env.RANK !== undefined) {
      throw new InputError(
        "--nproc-per-node inside a launched worker (RANK is set); give it to one launcher only",
      );
    }
    // Checked here so that a bad option is one line, not one per worker.
    if (config.video === undefined && config.images === undefined && config.dataset === undefined) {
      throw new InputError(
        "give the footage to learn from: --video <file> (or --images <folder>, --dataset fashion-mnist)",
      );
    }
    const code = await launchLocalWorkers({
      ...launchOptionsFrom(launcher),
      workerArgs: ["pretrain", ...withoutLauncherFlags(argv)],
      // Long enough for the others to print their own line (a peer's death breaks their next
      // collective at once), short enough that one waiting at the rendezvous for a rank that
      // died before joining is not left there for the whole timeout.
      graceMs: Math.min(config.collectiveTimeout, 30) * 1000,
    });
    process.exitCode = code;
    return;
  }
  const summary = await runPretrain(config, options.resume === true, undefined, method);
  if (placementFromEnv().rank !== 0) return;
  console.log(
    `trained ${summary.steps} steps: loss ${summary.firstLoss.toFixed(4)} -> ${summary.lastLoss.toFixed(4)}`,
  );
  console.log(`weights: ${summary.weights}`);
  console.log(summary.runDir);
}
