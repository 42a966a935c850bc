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
import { cuda, type Device, manualSeed } from "../torch/index.ts";
import { describeOptions, readConfigFile, validateConfig } from "../train/config.ts";
import { demoPresets, presetNames } from "../train/presets.ts";
import { train, type TrainSummary } from "../train/trainer.ts";
import { FrameCache } from "../video/frame_cache.ts";
import { InputError } from "../video/probe.ts";
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
    `${method} options ('onevideo pretrain --method <other> --help' lists another method's):`,
    ...describeOptions(methodOptions[method]),
  ].join("\n");
}

export function pickDevice(requested: string | undefined): Device {
  if (requested) {
    if (requested.startsWith("cuda") && !cuda.isAvailable()) {
      throw new InputError(
        `--device ${requested}: this libtorch has no CUDA or no GPU is visible; use --device cpu`,
      );
    }
    return requested as Device;
  }
  return cuda.isAvailable() ? "cuda" : "cpu";
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
  const device = pickDevice(config.device);
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
  const source = await openSource(config, wholeClips);
  try {
    manualSeed(config.seed); // the initial weights follow the seed
    const method =
      methodName === "dora"
        ? new DoraMethod(config as DoraConfig)
        : methodName === "vader"
          ? new VaderMethod(config as VaderConfig)
          : new DinoMethod(config as DinoConfig);
    mkdirSync(runDir, { recursive: true });
    if (!resume)
      writeFileSync(join(runDir, "config.json"), JSON.stringify({ method: methodName, ...config }, null, 1));
    const summary = await train({ method, source, settings: config, runDir, device, resume, stopAfterStep });
    if (summary.steps < (config.steps ?? Number.POSITIVE_INFINITY)) return { ...summary, runDir };
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

export async function pretrainCommand(argv: string[]): Promise<void> {
  const { options } = parseArgs(argv, new Set(["resume", "normLastLayer", "help"]));
  if (options.help) {
    const method = methodNames.includes(options.method as MethodName)
      ? (options.method as MethodName)
      : "dino";
    console.log(pretrainHelp(method));
    return;
  }
  const { method, config } = resolveConfig(options);
  const summary = await runPretrain(config, options.resume === true, undefined, method);
  console.log(
    `trained ${summary.steps} steps: loss ${summary.firstLoss.toFixed(4)} -> ${summary.lastLoss.toFixed(4)}`,
  );
  console.log(`weights: ${summary.weights}`);
  console.log(summary.runDir);
}
