// The training loop, the same for every method: data, the method's forward and loss,
// backward, clipping, the optimiser with its schedules, the EMA teacher, metrics,
// checkpoints and exact resumption.
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ImageSource } from "../data/frame_source.ts";
import { Random } from "../data/random.ts";
import { updateTeacher } from "../methods/ema.ts";
import { AdamW, clipGradNormPerParameter, SGD } from "../optim/index.ts";
import { type Device, manualSeed, scope, type Tensor, writeSafetensors } from "../torch/index.ts";
import { InputError } from "../video/probe.ts";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import type { TrainableMethod } from "./method.ts";
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
}

export interface TrainSummary {
  steps: number;
  firstLoss: number;
  lastLoss: number;
  weights: string;
}

/** A run that cannot go on (e.g. the loss became NaN). */
export class TrainingError extends Error {
  override name = "TrainingError";
}

/** Parameter groups as DINO makes them: no weight decay on biases and 1-d parameters (norms). */
function parameterGroups(method: TrainableMethod): { decayed: Tensor[]; undecayed: Tensor[] } {
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
}): Promise<TrainSummary> {
  const { method, source, settings, runDir, device } = options;
  const itersPerEpoch = Math.floor(source.size / settings.batchSize);
  if (itersPerEpoch === 0) {
    throw new InputError(
      `--batch-size ${settings.batchSize} is larger than the data (${source.size} samples); lower it`,
    );
  }
  const totalIters = settings.steps ?? settings.epochs * itersPerEpoch;
  const schedules = buildSchedules(settings, itersPerEpoch, totalIters);
  const { decayed, undecayed } = parameterGroups(method);
  const groups = [{ params: decayed }, { params: undecayed, weightDecay: 0 }];
  const optimizer =
    settings.optimizer === "sgd"
      ? new SGD(groups, { lr: 0, momentum: settings.sgdMomentum ?? 0.9 })
      : new AdamW(groups, { lr: 0 });
  const random = new Random(settings.seed);
  mkdirSync(runDir, { recursive: true });
  let start = 0;
  if (options.resume) {
    const restored = loadCheckpoint(runDir, method, optimizer, device);
    if (!restored) throw new InputError(`--resume: ${runDir} has no checkpoint to resume from`);
    start = restored.step;
    random.state = restored.randomState;
  } else {
    manualSeed(settings.seed);
  }
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
    const position = iteration % itersPerEpoch;
    const indices = order.slice(position * settings.batchSize, (position + 1) * settings.batchSize);
    const began = performance.now();
    const { loss, metrics, loaded } = scope(() => {
      const images = source.batch(indices, device);
      const loaded = performance.now();
      optimizer.paramGroups[0].options.lr = schedules.learningRate[iteration];
      optimizer.paramGroups[1].options.lr = schedules.learningRate[iteration];
      optimizer.paramGroups[0].options.weightDecay = schedules.weightDecay[iteration];
      const result = method.step(images, { random, epoch: iteration / itersPerEpoch });
      const value = result.loss.item();
      if (!Number.isFinite(value)) {
        throw new TrainingError(
          `the loss became ${value} at step ${iteration}; lower --lr, raise --clip-grad or check the input`,
        );
      }
      optimizer.zeroGrad();
      result.loss.backward();
      if (settings.clipGrad > 0) clipGradNormPerParameter(studentParameters, settings.clipGrad);
      if (epoch < settings.freezeLastLayerEpochs) for (const parameter of lastLayer) parameter.grad = null;
      optimizer.step();
      updateTeacher(method.teacher, method.student, schedules.teacherMomentum[iteration]);
      return { loss: value, metrics: result.metrics, loaded };
    });
    const finished = performance.now();
    dataMs += loaded - began;
    stepMs += finished - began;
    if (Number.isNaN(firstLoss)) firstLoss = loss;
    lastLoss = loss;
    const step = iteration + 1;
    const logNow = step % settings.logEvery === 0 || step === totalIters;
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
        images_per_s: +((settings.batchSize * count * 1000) / stepMs).toFixed(2),
        peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
      };
      appendFileSync(metricsPath, `${JSON.stringify(record)}\n`);
      dataMs = 0;
      stepMs = 0;
    }
    progress.update(
      step,
      `loss ${loss.toFixed(4)}  lr ${schedules.learningRate[iteration].toExponential(2)}`,
      start,
      logNow,
    );
    if (step % settings.checkpointEvery === 0 || step === totalIters) {
      saveCheckpoint(runDir, { step, randomState: random.state }, method, optimizer, device);
    }
    await new Promise((resolve) => setImmediate(resolve)); // let I/O and collectors run
    if (options.stopAfterStep !== undefined && step >= options.stopAfterStep && step < totalIters) {
      if (step % settings.checkpointEvery !== 0) {
        saveCheckpoint(runDir, { step, randomState: random.state }, method, optimizer, device);
      }
      progress.finish();
      return { steps: step, firstLoss, lastLoss, weights: "" };
    }
  }
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
