// GPU benchmark: one DINO and one DoRA training step, each the trainer's own trainStep
// (autocast forward and loss, backward, loss scaling, per-parameter clipping, AdamW with
// DINO's parameter groups and schedules, EMA teacher, one read of the loss), against the same step in the machine's own
// PyTorch (bench/reference/gpu_step_worker.py: the official DINO step, and DoRA's
// discovery, tracking and masked views) at the same model sizes, views and batch.
//
//   npm run bench:gpu      (defaults: ViT-S/16, 224 px, bf16, out dim 65536)
//
// Environment: BENCH_DEVICE (cuda when available, else cpu), BENCH_ARCH (vit_small),
// BENCH_IMAGE (224), BENCH_PATCH (16), BENCH_BATCH ("256,128,64": the first batch at which
// both sides fit in memory; DoRA's is frames, clips of 8), BENCH_STEPS (10 timed steps),
// BENCH_WARMUP (3), BENCH_ROUNDS (3), BENCH_PRECISION (bf16 or fp32), BENCH_METHODS
// ("dino,dora"), BENCH_LOCAL_CROPS (DINO 8, DoRA 6), BENCH_OUT_DIM (65536), BENCH_PYTHON
// (python3), BENCH_REPLY_TIMEOUT_S (300: a silent worker is ended).
//
// Each round runs a fresh worker process per side, onevideo then PyTorch, so neither
// side's cached GPU memory is held while the other runs; a round is BENCH_WARMUP steps,
// then BENCH_STEPS timed ones. Reported: the median of the rounds, ratio = onevideo /
// PyTorch step time, peak GPU memory (peak RSS on CPU), and TFLOP/s from one analytic
// count of the matrix products that both sides share.
//
// Our step gets frames of the frame store's default short side (300 px for 224) and
// crops and distorts them on the device inside method.step, and it computes the collapse
// signals (and DoRA's mask area) it logs; the reference gets its views ready-made as
// random tensors and logs nothing. The ratio is therefore an upper bound on our overhead.
// Output: a line per round, a JSON line per method as it finishes, then a table.
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { multiCrop } from "../src/augment/multicrop.ts";
import { type DinoConfig, type DinoMethod, localCropSize } from "../src/methods/dino.ts";
import { DoraMethod } from "../src/methods/dora.ts";
import { vitConfig, type VitArchitecture } from "../src/models/vit.ts";
import { resolveConfig } from "../src/pretrain/pretrain.ts";
import { methodEntry } from "../src/pretrain/registry.ts";
import { defaultFrameShortSide } from "../src/pretrain/sources.ts";
import {
  cuda,
  type Device,
  getNumThreads,
  hasOperator,
  libtorchVersion,
  manualSeed,
  rand,
  scope,
} from "../src/torch/index.ts";
import { prepareTraining, trainStep } from "../src/train/trainer.ts";
import { positiveNumber, wholeNumber } from "./settings.ts";

type MethodName = "dino" | "dora";
type Side = "onevideo" | "pytorch";

/** What both workers build and run: our options, and the same settings resolved for the reference. */
interface Job {
  method: MethodName;
  device: Device;
  precision: "fp32" | "bf16";
  batch: number;
  warmup: number;
  threads: number;
  seed: number;
  /** Our method's options; our worker parses them again with the method's schema. */
  options: Record<string, unknown>;
  imageSize: number;
  patchSize: number;
  /** Side of the square frames our step crops its views from. */
  frameSize: number;
  dim: number;
  depth: number;
  heads: number;
  mlpRatio: number;
  dropPathRate: number;
  outDim: number;
  headHiddenDim: number;
  bottleneckDim: number;
  localCrops: number;
  localCropSize: number;
  studentTemperature: number;
  teacherTemperature: number;
  centerMomentum: number;
  clipLength: number;
  objects: number;
  attentionBlock: number;
  sinkhornIterations: number;
  sinkhornEpsilon: number;
  maskedViewSize: number;
  maskLossWeight: number;
  localLossWeight: number;
  lr: number;
  weightDecay: number;
  teacherMomentum: number;
  clipGrad: number;
}

/** A worker's JSON line: the ready line, a measurement, or {oom: true}. */
type Reply = Record<string, number | string | boolean>;

const OUT_OF_MEMORY = /out of memory|ALLOC_FAILED|can't allocate memory|not enough memory/i;
/** Past the warm-up the trainer is in its second epoch: the head's last layer is trained. */
const EPOCH = 1;

/**
 * Matrix-product FLOPs of one training step, the same count for both sides. Per view of
 * side s: the patch embedding, 2 x tokens x (weights of the blocks' Linear layers) plus
 * 4 x tokens^2 x dim of attention per block, and the head's MLP and last layer on [CLS].
 * The student's views count 3x (forward and backward), the teacher's once.
 */
function stepFlops(job: Job): number {
  const { patchSize: patch, dim, depth } = job;
  const hidden = Math.round(dim * job.mlpRatio);
  const view = (size: number) => {
    const patches = (size / patch) ** 2;
    const tokens = patches + 1;
    const patchEmbedding = 2 * patches * 3 * patch * patch * dim;
    const blockWeights = 3 * dim * dim + dim * dim + 2 * dim * hidden;
    const blocks = depth * (2 * tokens * blockWeights + 4 * tokens ** 2 * dim);
    const { headHiddenDim: h, bottleneckDim: b, outDim } = job;
    const head = 2 * (dim * h + h * h + h * b + b * outDim);
    return patchEmbedding + blocks + head;
  };
  const local = job.localCrops * view(job.localCropSize);
  const [student, teacher] =
    job.method === "dino"
      ? [2 * view(job.imageSize) + local, 2 * view(job.imageSize)]
      : [job.objects * view(job.maskedViewSize) + local, view(job.imageSize)];
  return job.batch * (3 * student + teacher);
}

function outOfMemory(error: unknown): boolean {
  return error instanceof Error && OUT_OF_MEMORY.test(error.message);
}

// ---- our side: a worker process with the reference worker's protocol ----

const reply = (value: Reply) => process.stdout.write(`${JSON.stringify(value)}\n`);

/** Builds our method, warms up, says it is ready, then answers 'run K'; out of memory ends it. */
async function oursWorker(job: Job): Promise<void> {
  const { device } = job;
  const onCuda = device.startsWith("cuda");
  manualSeed(job.seed);
  const config = resolveConfig({ method: job.method, ...job.options });
  const method = methodEntry(config.method).create(config);
  // The trainer's own step, past the first epoch (the head's last layer trains) of a long run.
  const itersPerEpoch = 1000;
  const training = prepareTraining({
    method,
    settings: { ...config, precision: job.precision },
    itersPerEpoch,
    totalIters: 100 * itersPerEpoch,
    device,
  });
  const images = rand([job.batch, 3, job.frameSize, job.frameSize], { device });
  let iteration = EPOCH * itersPerEpoch;
  const step = () => trainStep(training, images, iteration++, config.clipGrad).loss;
  // The views alone, as method.step makes them: what the reference is handed ready-made.
  const augment = () =>
    scope(() => {
      if (method instanceof DoraMethod) method.clipViews(images, training.random);
      else multiCrop(images, (method as DinoMethod).augmentation, training.random);
    });
  const timeAugmentation = (count: number): number => {
    if (onCuda) cuda.synchronize();
    const started = performance.now();
    for (let i = 0; i < count; i++) augment();
    if (onCuda) cuda.synchronize();
    return (performance.now() - started) / count;
  };
  const run = (count: number): Reply => {
    if (onCuda) {
      cuda.synchronize();
      cuda.resetPeakMemoryStats(device);
    }
    const started = performance.now();
    let loss = Number.NaN;
    for (let i = 0; i < count; i++) loss = step();
    if (onCuda) cuda.synchronize();
    const stepMs = (performance.now() - started) / count;
    // 0 from a build without the CUDA allocator's statistics: fall back to RSS.
    const gpuBytes = onCuda ? cuda.maxMemoryAllocated(device) : 0;
    const memory = gpuBytes > 0 ? "gpu" : "rss";
    const peak = gpuBytes > 0 ? gpuBytes / 2 ** 20 : process.resourceUsage().maxRSS / 1024;
    return { step_ms: stepMs, peak_mem_mb: peak, memory, loss, augment_ms: timeAugmentation(count) };
  };
  for (let i = 0; i < job.warmup; i++) step();
  reply({
    ready: true,
    libtorch: libtorchVersion(),
    fused_attention: hasOperator("aten::scaled_dot_product_attention"),
    parameters: training.studentParameters.reduce((count, parameter) => count + parameter.numel, 0),
  });
  for await (const line of createInterface({ input: process.stdin })) reply(run(Number(line.split(" ")[1])));
}

// ---- the driver: rounds, out-of-memory fallback, report ----

const env = process.env;
const replyTimeoutS = positiveNumber("BENCH_REPLY_TIMEOUT_S", 300);

/** A worker process answering one JSON line per request on stdout. */
class Worker {
  private readonly child: ChildProcess;
  private readonly lines: AsyncIterator<string>;
  private failure = "";

  constructor(
    readonly name: string,
    command: string,
    args: string[],
  ) {
    this.child = spawn(command, args, { stdio: ["pipe", "pipe", "inherit"] });
    this.child.on("error", (error) => (this.failure = `: ${error.message}`));
    this.child.stdin!.on("error", () => {}); // a worker that died is reported by reply()
    this.lines = createInterface({ input: this.child.stdout! })[Symbol.asyncIterator]();
  }

  /** Sends a request (if any) and returns the next JSON line; other output passes through. */
  async reply(request?: string): Promise<Reply> {
    if (request) this.child.stdin!.write(`${request}\n`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.child.kill("SIGKILL");
        reject(new Error(`${this.name} gave no answer in ${replyTimeoutS} s (BENCH_REPLY_TIMEOUT_S)`));
      }, replyTimeoutS * 1000);
    });
    try {
      for (;;) {
        const { value, done } = await Promise.race([this.lines.next(), timeout]);
        if (done) throw new Error(`${this.name} ended without an answer${this.failure}`);
        if (value.startsWith("{")) return JSON.parse(value) as Reply;
        console.log(`${this.name}: ${value}`);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the worker and waits until it is gone, so its GPU memory is free for the next. */
  async close(): Promise<void> {
    this.child.stdin!.end();
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 15_000); // a healthy exit takes ~1 s
    await exited;
    clearTimeout(timer);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function makeJob(method: MethodName, batch: number, device: Device): Job {
  const localCrops = env.BENCH_LOCAL_CROPS;
  const options = {
    arch: (env.BENCH_ARCH ?? "vit_small") as VitArchitecture,
    imageSize: wholeNumber("BENCH_IMAGE", 224),
    patchSize: wholeNumber("BENCH_PATCH", 16),
    outDim: wholeNumber("BENCH_OUT_DIM", 65536),
    batchSize: batch,
    clipLength: 8,
    ...(localCrops === undefined ? {} : { localCrops: Number(localCrops) }),
  };
  const resolved = resolveConfig({ method, ...options });
  const config = resolved as DinoConfig;
  const dora = resolved.method === "dora" ? resolved : null;
  if (dora && batch % config.clipLength !== 0) {
    throw new Error(`DoRA's batch is clips of ${config.clipLength} frames: ${batch} is not a multiple`);
  }
  const shape = vitConfig(config.arch);
  const precision = env.BENCH_PRECISION ?? "bf16";
  if (precision !== "bf16" && precision !== "fp32") {
    throw new Error(`BENCH_PRECISION ${precision}: use bf16 or fp32 (fp16 needs loss scaling)`);
  }
  return {
    method,
    device,
    precision,
    batch,
    warmup: wholeNumber("BENCH_WARMUP", 3, 0),
    threads: getNumThreads(),
    seed: 0,
    options,
    imageSize: config.imageSize,
    patchSize: config.patchSize,
    frameSize: defaultFrameShortSide(config.imageSize),
    dim: shape.embedDim,
    depth: shape.depth,
    heads: shape.numHeads,
    mlpRatio: shape.mlpRatio,
    dropPathRate: config.dropPathRate,
    outDim: config.outDim,
    headHiddenDim: config.headHiddenDim,
    bottleneckDim: config.bottleneckDim,
    localCrops: config.localCrops,
    localCropSize: localCropSize(config),
    studentTemperature: config.studentTemperature,
    // At EPOCH the warm-up still holds the teacher at its start temperature (both 0.04 by default).
    teacherTemperature: config.warmupTeacherTemperature,
    centerMomentum: config.centerMomentum,
    clipLength: config.clipLength,
    objects: dora?.objects ?? 0,
    attentionBlock: dora?.attentionBlock ?? -1,
    sinkhornIterations: dora?.sinkhornIterations ?? 0,
    sinkhornEpsilon: dora?.sinkhornEpsilon ?? 0,
    maskedViewSize: dora?.maskedViewSize ?? config.imageSize,
    maskLossWeight: dora?.maskLossWeight ?? 1,
    localLossWeight: dora?.localLossWeight ?? 1,
    lr: (config.lr * batch) / 256,
    weightDecay: config.weightDecay,
    teacherMomentum: config.teacherMomentum,
    clipGrad: config.clipGrad,
  };
}

const steps = wholeNumber("BENCH_STEPS", 10);
const python = env.BENCH_PYTHON ?? "python3";
const versions: Record<string, unknown> = {};
/** The student's parameters as each side built it: the two models must be the same size. */
const parameterCounts: Record<Side, number> = { onevideo: 0, pytorch: 0 };

/** One side's round in a fresh process: warm-up, then `steps` timed steps; "oom" if it does not fit. */
async function measure(side: Side, job: Job): Promise<Reply | "oom"> {
  const worker =
    side === "onevideo"
      ? new Worker("onevideo worker", process.execPath, [
          ...process.execArgv,
          fileURLToPath(import.meta.url),
          "--worker",
          JSON.stringify(job),
        ])
      : new Worker(`python3-torch worker (${python}; BENCH_PYTHON sets another)`, python, [
          fileURLToPath(new URL("reference/gpu_step_worker.py", import.meta.url)),
          JSON.stringify(job),
        ]);
  try {
    const ready = await worker.reply();
    if (ready.oom) return "oom";
    if (side === "pytorch") Object.assign(versions, { torch: ready.torch, device_name: ready.device_name });
    versions[`${side}_fused_attention`] = ready.fused_attention;
    parameterCounts[side] = ready.parameters as number;
    const result = await worker.reply(`run ${steps}`);
    return result.oom ? "oom" : result;
  } finally {
    await worker.close();
  }
}

/** The method's row at the largest batch both sides fit, or null if none does. */
async function benchmark(method: MethodName, batches: number[], device: Device, rounds: number) {
  for (const [index, batch] of batches.entries()) {
    const job = makeJob(method, batch, device);
    const results: Record<Side, Reply[]> = { onevideo: [], pytorch: [] };
    let outOfMemorySide: Side | null = null;
    for (let round = 1; round <= rounds && !outOfMemorySide; round++) {
      for (const side of ["onevideo", "pytorch"] as const) {
        const result = await measure(side, job);
        if (result === "oom") {
          outOfMemorySide = side;
          break;
        }
        results[side].push(result);
      }
      if (outOfMemorySide) break;
      if (round === 1 && parameterCounts.onevideo !== parameterCounts.pytorch) {
        console.log(
          `${method}: warning: the students differ, onevideo ${parameterCounts.onevideo} parameters, ` +
            `pytorch ${parameterCounts.pytorch}`,
        );
      }
      const [ours, reference] = [results.onevideo.at(-1)!, results.pytorch.at(-1)!];
      console.log(
        `${method} batch ${batch} round ${round}/${rounds}: ` +
          `onevideo ${(ours.step_ms as number).toFixed(1)} ms/step (loss ${(ours.loss as number).toFixed(3)}), ` +
          `pytorch ${(reference.step_ms as number).toFixed(1)} ms/step (loss ${(reference.loss as number).toFixed(3)})`,
      );
    }
    if (outOfMemorySide) {
      const next = batches[index + 1];
      console.log(
        `${method} batch ${batch}: ${outOfMemorySide} ran out of memory` +
          (next ? `; trying batch ${next}` : "; no smaller batch left (BENCH_BATCH)"),
      );
      continue;
    }
    const flops = stepFlops(job);
    const figures = (side: Side) => {
      const ms = median(results[side].map((r) => r.step_ms as number));
      return {
        ms,
        imagesPerS: (batch * 1000) / ms,
        peakMb: Math.max(...results[side].map((r) => r.peak_mem_mb as number)),
        tflops: flops / (ms / 1000) / 1e12,
      };
    };
    const [ours, reference] = [figures("onevideo"), figures("pytorch")];
    // Our step less its on-device augmentation: the same work as the reference's step.
    const augmentMs = median(results.onevideo.map((r) => r.augment_ms as number));
    return {
      method,
      batch,
      gflop_per_step: +(flops / 1e9).toFixed(1),
      onevideo_ms: +ours.ms.toFixed(2),
      pytorch_ms: +reference.ms.toFixed(2),
      ratio: +(ours.ms / reference.ms).toFixed(3),
      onevideo_augment_ms: +augmentMs.toFixed(2),
      model_ratio: +((ours.ms - augmentMs) / reference.ms).toFixed(3),
      onevideo_images_per_s: +ours.imagesPerS.toFixed(1),
      pytorch_images_per_s: +reference.imagesPerS.toFixed(1),
      onevideo_tflops: +ours.tflops.toFixed(2),
      pytorch_tflops: +reference.tflops.toFixed(2),
      // "gpu": the caching allocator's peak of bytes in tensors; "rss": the process's peak RSS.
      onevideo_memory: String(results.onevideo[0].memory),
      pytorch_memory: String(results.pytorch[0].memory),
      onevideo_peak_mb: Math.round(ours.peakMb),
      pytorch_peak_mb: Math.round(reference.peakMb),
    };
  }
  return null;
}

async function main(): Promise<void> {
  const started = performance.now();
  const device = (env.BENCH_DEVICE ?? (cuda.isAvailable() ? "cuda" : "cpu")) as Device;
  const batches = (env.BENCH_BATCH ?? "256,128,64").split(",").map(Number);
  const methods = (env.BENCH_METHODS ?? "dino,dora").split(",") as MethodName[];
  const rounds = wholeNumber("BENCH_ROUNDS", 3);
  const sample = makeJob("dino", batches[0], device);
  console.log(
    `gpu_step: ${env.BENCH_ARCH ?? "vit_small"}/${sample.patchSize} at ${sample.imageSize} px, ` +
      `${sample.precision}, out dim ${sample.outDim}, on ${device}; libtorch ${libtorchVersion()}; ` +
      `batches ${batches.join(",")}, ${rounds} rounds of ${sample.warmup} + ${steps} steps`,
  );
  const rows: Record<string, string | number>[] = [];
  let failed = false;
  for (const method of methods) {
    try {
      const row = await benchmark(method, batches, device, rounds);
      if (row) {
        rows.push(row);
        console.log(JSON.stringify({ ...row, libtorch: libtorchVersion(), ...versions }));
      } else failed = true;
    } catch (error) {
      console.log(`${method}: failed: ${(error as Error).message}`);
      failed = true;
    }
  }
  console.log(
    `device ${versions.device_name ?? device}; libtorch ${libtorchVersion()}, python3-torch ${versions.torch ?? "?"}; ` +
      `fused attention: onevideo ${versions.onevideo_fused_attention ?? "?"}, pytorch ${versions.pytorch_fused_attention ?? "?"}`,
  );
  const columns: [string, string][] = [
    ["method", "method"],
    ["batch", "batch"],
    ["GFLOP", "gflop_per_step"],
    ["ours ms", "onevideo_ms"],
    ["torch ms", "pytorch_ms"],
    ["ratio", "ratio"],
    ["augment ms", "onevideo_augment_ms"],
    ["model ratio", "model_ratio"],
    ["ours img/s", "onevideo_images_per_s"],
    ["torch img/s", "pytorch_images_per_s"],
    ["ours TFLOP/s", "onevideo_tflops"],
    ["torch TFLOP/s", "pytorch_tflops"],
    ["ours MB", "onevideo_peak_mb"],
    ["torch MB", "pytorch_peak_mb"],
  ];
  const table = [
    columns.map(([title]) => title),
    ...rows.map((row) => columns.map(([, key]) => String(row[key]))),
  ];
  const widths = columns.map((_, i) => Math.max(...table.map((line) => line[i].length)));
  for (const line of table) console.log(line.map((cell, i) => cell.padStart(widths[i])).join("  "));
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  const memory = rows.map((row) => `${row.method}: ours ${row.onevideo_memory}, torch ${row.pytorch_memory}`);
  console.log(
    `MB: peak GPU memory in tensors (gpu) or peak RSS (rss), ${memory.join("; ")}; ` +
      `ratio = ours ms / torch ms; model ratio = (ours ms - augment ms) / torch ms; ${seconds} s in all`,
  );
  if (failed) process.exitCode = 1;
}

if (process.argv[2] === "--worker") {
  try {
    await oursWorker(JSON.parse(process.argv[3]) as Job);
  } catch (error) {
    if (!outOfMemory(error)) throw error;
    reply({ oom: true, error: (error as Error).message.split("\n")[0] });
  }
  process.exit(0);
} else {
  await main();
}
