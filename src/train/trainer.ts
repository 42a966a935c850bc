// The training loop, the same for every method: data, the method's forward and loss
// (under autocast for bf16/fp16), backward, the gradient average across data-parallel
// ranks, clipping, the optimiser with its schedules, the EMA teacher, metrics,
// checkpoints and exact resumption.
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ImageSource } from "../data/frame_source.ts";
import { Random } from "../util/random.ts";
import { updateTeacher } from "./ema.ts";
import { AdamW, clipGradNormPerParameter, SGD } from "../optim/index.ts";
import {
  autocast,
  type Device,
  manualSeed,
  type Precision,
  scope,
  type Tensor,
  writeSafetensors,
} from "../torch/index.ts";
import { InputError, TrainingError } from "../errors.ts";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import { DataParallel } from "./data_parallel.ts";
import { GradScaler } from "./grad_scaler.ts";
import { readStepResult, type TrainableMethod } from "./method.ts";
import { Progress } from "./progress.ts";
import { buildSchedules, type ScheduleSettings } from "./schedules.ts";

export interface TrainSettings extends ScheduleSettings {
  seed: number;
  epochs: number;
  steps?: number;
  clipGrad: number;
  freezeLastLayerEpochs: number;
  logEvery: number;
  checkpointEvery: number;
  /** AdamW (DINO, DoRA; the default) or SGD with momentum (MoCo and VADeR). */
  optimizer?: "adamw" | "sgd";
  sgdMomentum?: number;
  /** Autocast precision of forward and loss; weights and optimiser state stay fp32. */
  precision?: Precision;
}

export interface TrainSummary {
  steps: number;
  firstLoss: number;
  lastLoss: number;
  weights: string;
}

/** Each rank's own augmentation stream; rank 0's is the single-process one. */
export function rankSeed(seed: number, rank: number): number {
  return (seed + Math.imul(rank, 0x9e3779b9)) >>> 0;
}

/** Puts networks and method state (DINO's centre, VADeR's queue) on the device, in place. */
export function placeOnDevice(method: TrainableMethod, device: Device): void {
  if (device === "cpu") return;
  method.student.to(device);
  method.teacher.to(device);
  for (const tensor of method.extraState().values()) tensor.replaceWith_(tensor.to(device));
}

/** Parameter groups as DINO makes them: no weight decay on biases and 1-d parameters (norms). */
export function parameterGroups(method: TrainableMethod): { decayed: Tensor[]; undecayed: Tensor[] } {
  const decayed: Tensor[] = [];
  const undecayed: Tensor[] = [];
  for (const [name, parameter] of method.student.namedParameters()) {
    if (!parameter.requiresGrad) continue;
    if (name.endsWith(".bias") || parameter.ndim === 1) undecayed.push(parameter);
    else decayed.push(parameter);
  }
  return { decayed, undecayed };
}

export async function train(options: {
  method: TrainableMethod;
  source: ImageSource;
  settings: TrainSettings;
  runDir: string;
  device: Device;
  resume?: boolean;
  /** Stop after this step as if interrupted (tests of resumption, time-boxed sessions). */
  stopAfterStep?: number;
  /** This process's place in a data-parallel job (default: a single process). */
  parallel?: DataParallel;
}): Promise<TrainSummary> {
  const { method, source, settings, runDir, device } = options;
  const parallel = options.parallel ?? DataParallel.single();
  const { rank, worldSize, isLeader } = parallel;
  // --batch-size is per process, as DINO's batch_size_per_gpu; the schedules see the whole batch.
  const globalBatch = settings.batchSize * worldSize;
  const itersPerEpoch = Math.floor(source.size / globalBatch);
  if (itersPerEpoch === 0) {
    const whole = worldSize > 1 ? ` x ${worldSize} processes` : "";
    throw new InputError(
      `--batch-size ${settings.batchSize}${whole} is larger than the data (${source.size} samples); lower it`,
    );
  }
  const totalIters = settings.steps ?? settings.epochs * itersPerEpoch;
  const schedules = buildSchedules({ ...settings, batchSize: globalBatch }, itersPerEpoch, totalIters);
  const precision = settings.precision ?? "fp32";
  const scaler = precision === "fp16" ? new GradScaler() : null;
  placeOnDevice(method, device);
  const { decayed, undecayed } = parameterGroups(method);
  const groups = [{ params: decayed }, { params: undecayed, weightDecay: 0 }];
  const optimizer =
    settings.optimizer === "sgd"
      ? new SGD(groups, { lr: 0, momentum: settings.sgdMomentum ?? 0.9 })
      : new AdamW(groups, { lr: 0 });
  const random = new Random(rankSeed(settings.seed, rank));
  if (isLeader) mkdirSync(runDir, { recursive: true });
  let start = 0;
  if (options.resume) {
    // Every rank reads the checkpoint (the run folder is shared, as DDP assumes).
    const restored = loadCheckpoint(runDir, method, optimizer, device);
    if (!restored) throw new InputError(`--resume: ${runDir} has no checkpoint to resume from`);
    start = restored.step;
    const saved = restored.randomStates ?? [restored.randomState];
    // A rank the saved run did not have (resuming at a larger world size) starts a fresh stream.
    random.state = saved[rank] ?? rankSeed(settings.seed + start, rank);
    if (scaler && restored.gradScaler) scaler.state = restored.gradScaler;
    if (rank > 0) manualSeed(rankSeed(settings.seed + start, rank));
  } else {
    manualSeed(rankSeed(settings.seed, rank));
  }
  // Every rank starts from rank 0's weights and state, as DDP does.
  parallel.broadcastModule(method.student);
  parallel.broadcastModule(method.teacher);
  parallel.broadcastTensors([...method.extraState().values()]);
  const saveNow = (step: number) => {
    const randomStates = parallel.gatherNumbers(random.state);
    if (!isLeader) return;
    const state = { step, randomState: randomStates[0], randomStates, gradScaler: scaler?.state };
    saveCheckpoint(runDir, state, method, optimizer, device);
  };
  const metricsPath = join(runDir, "metrics.jsonl");
  const progress = new Progress(totalIters, "step");
  const lastLayer = new Set(method.lastLayerParameters());
  const studentParameters = method.student.parameters();
  let firstLoss = Number.NaN;
  let lastLoss = Number.NaN;
  let order: number[] = [];
  let orderEpoch = -1;
  let dataMs = 0;
  let stepMs = 0;
  for (let iteration = start; iteration < totalIters; iteration++) {
    const epoch = Math.floor(iteration / itersPerEpoch);
    if (epoch !== orderEpoch) {
      order = source.order(epoch);
      orderEpoch = epoch;
    }
    // Each rank reads its own contiguous share of the step's global batch.
    const first = (iteration % itersPerEpoch) * globalBatch + rank * settings.batchSize;
    const indices = order.slice(first, first + settings.batchSize);
    const began = performance.now();
    const { loss, metrics, loaded } = scope(() => {
      const images = source.batch(indices, device);
      const loaded = performance.now();
      optimizer.paramGroups[0].options.lr = schedules.learningRate[iteration];
      optimizer.paramGroups[1].options.lr = schedules.learningRate[iteration];
      optimizer.paramGroups[0].options.weightDecay = schedules.weightDecay[iteration];
      const result = autocast(device, precision, () =>
        method.step(images, { random, epoch: iteration / itersPerEpoch, parallel }),
      );
      optimizer.zeroGrad();
      parallel.backward(scaler ? scaler.scaleLoss(result.loss) : result.loss, studentParameters);
      const finite = scaler ? scaler.unscale(studentParameters) : true;
      scaler?.update(finite);
      if (settings.clipGrad > 0) clipGradNormPerParameter(studentParameters, settings.clipGrad);
      if (epoch < settings.freezeLastLayerEpochs) for (const parameter of lastLayer) parameter.grad = null;
      if (finite) optimizer.step(); // an fp16 step whose gradients overflowed is skipped
      updateTeacher(method.teacher, method.student, schedules.teacherMomentum[iteration]);
      // Read once the whole step is queued, so the GPU never waits for the host mid-step. A
      // non-finite loss has spoilt this step's update, but no checkpoint holds it.
      const read = readStepResult(result);
      // The mean over ranks, so every rank logs and stops on the same value.
      const value = parallel.averageNumber(read.loss);
      if (!Number.isFinite(value)) {
        throw new TrainingError(
          `the loss became ${value} at step ${iteration}; lower --lr, raise --clip-grad or check the input`,
        );
      }
      return { loss: value, metrics: read.metrics, loaded };
    });
    const finished = performance.now();
    dataMs += loaded - began;
    stepMs += finished - began;
    if (Number.isNaN(firstLoss)) firstLoss = loss;
    lastLoss = loss;
    const step = iteration + 1;
    const logNow = isLeader && (step % settings.logEvery === 0 || step === totalIters);
    if (logNow) {
      const count = step % settings.logEvery || settings.logEvery;
      const record = {
        step,
        epoch: +(step / itersPerEpoch).toFixed(3),
        loss,
        lr: schedules.learningRate[iteration],
        weight_decay: schedules.weightDecay[iteration],
        teacher_momentum: schedules.teacherMomentum[iteration],
        ...metrics,
        data_ms: +(dataMs / count).toFixed(2),
        step_ms: +(stepMs / count).toFixed(2),
        ...(scaler ? { loss_scale: scaler.scale } : {}),
        images_per_s: +((globalBatch * count * 1000) / stepMs).toFixed(2),
        peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
      };
      appendFileSync(metricsPath, `${JSON.stringify(record)}\n`);
      dataMs = 0;
      stepMs = 0;
    }
    if (isLeader) {
      progress.update(
        step,
        `loss ${loss.toFixed(4)}  lr ${schedules.learningRate[iteration].toExponential(2)}`,
        start,
        logNow,
      );
    }
    if (step % settings.checkpointEvery === 0 || step === totalIters) saveNow(step);
    await new Promise((resolve) => setImmediate(resolve)); // let I/O and collectors run
    if (options.stopAfterStep !== undefined && step >= options.stopAfterStep && step < totalIters) {
      if (step % settings.checkpointEvery !== 0) saveNow(step);
      if (isLeader) progress.finish();
      return { steps: step, firstLoss, lastLoss, weights: "" };
    }
  }
  if (!isLeader) return { steps: totalIters, firstLoss, lastLoss, weights: "" };
  progress.finish();
  const weights = exportWeights(method, runDir);
  const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  writeFileSync(
    join(runDir, "summary.json"),
    JSON.stringify({ steps: totalIters, firstLoss, lastLoss, peakRssMb }, null, 1),
  );
  return { steps: totalIters, firstLoss, lastLoss, weights };
}

/** The teacher's backbone with DINO's names: what evaluation and other tools load. */
export function exportWeights(method: TrainableMethod, runDir: string): string {
  const path = join(runDir, "weights.safetensors");
  const backbone = [...method.teacher.stateDict()]
    .filter(([name]) => name.startsWith("backbone."))
    .map(([name, tensor]) => [name.slice("backbone.".length), tensor] as [string, Tensor]);
  writeSafetensors(path, backbone, { format: "pt", source: "onevideo teacher backbone" });
  if (method.denseMetadata) {
    writeSafetensors(join(runDir, "dense.safetensors"), method.teacher.stateDict(), {
      format: "pt",
      source: "onevideo teacher, backbone and decoder",
      ...method.denseMetadata,
    });
  }
  return path;
}
