// The training loop, the same for every method: data, the method's forward and loss
// (under autocast for bf16/fp16), backward, the gradient average across data-parallel
// ranks, clipping, the optimiser with its schedules, the EMA teacher, metrics,
// checkpoints and exact resumption.
import { constants } from "node:os";
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
  stopSignals,
  type Tensor,
} from "../torch/index.ts";
import { InputError, printNote, TrainingError } from "../errors.ts";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import { DataParallel } from "./data_parallel.ts";
import { GradScaler } from "./grad_scaler.ts";
import { readStepResult, type TrainableMethod } from "./method.ts";
import { Progress } from "../util/progress.ts";
import type { RunFolder } from "./run_folder.ts";
import { buildSchedules, type RunSchedules, type ScheduleSettings } from "./schedules.ts";

export interface TrainSettings extends ScheduleSettings {
  seed: number;
  epochs: number;
  steps?: number;
  clipGrad: number;
  logEvery: number;
  checkpointEvery: number;
  /** Checkpoints kept (the newest first), so that a damaged one has an intact one before it. */
  keepCheckpoints?: number;
  /** AdamW (DINO, DoRA; the default) or SGD with momentum (MoCo and VADeR). */
  optimizer?: "adamw" | "sgd";
  sgdMomentum?: number;
  /** Autocast precision of forward and loss; weights and optimiser state stay fp32. */
  precision?: Precision;
}

/** A step's progress, for whoever watches the run. */
export interface StepReport {
  step: number;
  totalSteps: number;
  /** The step the run (or its resumption) started from. */
  firstStep: number;
  loss: number;
  lr: number;
  /** Whether this step's metrics were written (every --log-every steps and the last). */
  logged: boolean;
}

/** Progress on stderr: a live line on a terminal, the logged steps as plain lines otherwise. */
export function progressPrinter(totalSteps: number): (report: StepReport | null) => void {
  const progress = new Progress(totalSteps, "step");
  return (report) => {
    if (report === null) return progress.finish();
    const details = `loss ${report.loss.toFixed(4)}  lr ${report.lr.toExponential(2)}`;
    progress.update(report.step, details, report.firstStep, report.logged);
  };
}

export interface TrainSummary {
  steps: number;
  firstLoss: number;
  lastLoss: number;
  /** The exported weights; "" when the run stopped before its end (or on ranks other than 0). */
  weights: string;
  /** Set when SIGINT or SIGTERM stopped the run (after a checkpoint at `steps`). */
  stoppedBy?: NodeJS.Signals;
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

/** What every step of a run shares: the method, its optimiser and schedules, device and precision. */
export interface Training {
  method: TrainableMethod;
  optimizer: AdamW | SGD;
  scaler: GradScaler | null;
  schedules: RunSchedules;
  itersPerEpoch: number;
  device: Device;
  precision: Precision;
  parallel: DataParallel;
  /** Augmentation randomness (this rank's stream); saved with checkpoints. */
  random: Random;
  studentParameters: Tensor[];
}

/** Places the method on the device and builds its optimiser, scaler and schedules for a run of totalIters steps. */
export function prepareTraining(options: {
  method: TrainableMethod;
  settings: TrainSettings;
  itersPerEpoch: number;
  totalIters: number;
  device: Device;
  parallel?: DataParallel;
}): Training {
  const { method, settings, itersPerEpoch, totalIters, device } = options;
  const parallel = options.parallel ?? DataParallel.single();
  // --batch-size is per process, as DINO's batch_size_per_gpu; the schedules see the whole batch.
  const globalBatch = settings.batchSize * parallel.worldSize;
  const schedules = buildSchedules({ ...settings, batchSize: globalBatch }, itersPerEpoch, totalIters);
  const precision = settings.precision ?? "fp32";
  placeOnDevice(method, device);
  const { decayed, undecayed } = parameterGroups(method);
  const groups = [{ params: decayed }, { params: undecayed, weightDecay: 0 }];
  const optimizer =
    settings.optimizer === "sgd"
      ? new SGD(groups, { lr: 0, momentum: settings.sgdMomentum ?? 0.9 })
      : new AdamW(groups, { lr: 0 });
  return {
    method,
    optimizer,
    scaler: precision === "fp16" ? new GradScaler() : null,
    schedules,
    itersPerEpoch,
    device,
    precision,
    parallel,
    random: new Random(rankSeed(settings.seed, parallel.rank)),
    studentParameters: method.student.parameters(),
  };
}

/**
 * One training step on a batch, exactly as a run takes it: the schedules' values, forward and
 * loss under autocast, backward with the gradient average across ranks, loss scaling,
 * clipping, the method's last word on the gradients, the optimiser, the EMA teacher; then
 * one read of the loss and metrics. The loss is the mean over ranks.
 */
export function trainStep(
  training: Training,
  images: Tensor,
  iteration: number,
  clipGrad: number,
): { loss: number; metrics: Record<string, number> } {
  const { method, optimizer, scaler, schedules, parallel, studentParameters } = training;
  return scope(() => {
    optimizer.paramGroups[0].options.lr = schedules.learningRate[iteration];
    optimizer.paramGroups[1].options.lr = schedules.learningRate[iteration];
    optimizer.paramGroups[0].options.weightDecay = schedules.weightDecay[iteration];
    const epoch = iteration / training.itersPerEpoch;
    const result = autocast(training.device, training.precision, () =>
      method.step(images, { random: training.random, epoch, parallel }),
    );
    optimizer.zeroGrad();
    parallel.backward(scaler ? scaler.scaleLoss(result.loss) : result.loss, studentParameters);
    const finite = scaler ? scaler.unscale(studentParameters) : true;
    scaler?.update(finite);
    if (clipGrad > 0) clipGradNormPerParameter(studentParameters, clipGrad);
    // The fractional epoch: for whole-epoch settings the same as DINO's integer one, and a fraction
    // (a run shorter than an epoch) freezes for that share of an epoch.
    method.beforeOptimizerStep?.(epoch);
    if (finite) optimizer.step(); // an fp16 step whose gradients overflowed is skipped
    updateTeacher(method.teacher, method.student, schedules.teacherMomentum[iteration]);
    // Read once the whole step is queued, so the GPU never waits for the host mid-step. A
    // non-finite loss has spoilt this step's update, but no checkpoint holds it.
    const read = readStepResult(result);
    // The mean over ranks, so every rank logs and stops on the same value.
    const loss = parallel.averageNumber(read.loss);
    if (!Number.isFinite(loss)) {
      throw new TrainingError(
        `the loss became ${loss} at step ${iteration}; lower --lr, raise --clip-grad or check the input`,
      );
    }
    return { loss, metrics: read.metrics };
  });
}

export async function train(options: {
  method: TrainableMethod;
  source: ImageSource;
  settings: TrainSettings;
  run: RunFolder;
  device: Device;
  resume?: boolean;
  /** Stop after this step as if interrupted (tests of resumption, time-boxed sessions). */
  stopAfterStep?: number;
  /** This process's place in a data-parallel job (default: a single process). */
  parallel?: DataParallel;
  /** Told of every step on rank 0, and null when the run stops (default: progressPrinter). */
  onProgress?: (report: StepReport | null) => void;
  /**
   * What config.json records. Written once the start is known (on resume: after the checkpoint
   * read back whole), so a run refused at its start leaves its folder as it was; rewritten on
   * resume, since what the run now trains with (e.g. more --steps) is what it records.
   */
  record?: object;
  /** What environment.json records for this start, with the step it starts from. */
  environment?: object;
}): Promise<TrainSummary> {
  const { method, source, settings, run, device } = options;
  const parallel = options.parallel ?? DataParallel.single();
  const { rank, worldSize, isLeader } = parallel;
  const globalBatch = settings.batchSize * worldSize;
  const itersPerEpoch = Math.floor(source.size / globalBatch);
  if (itersPerEpoch === 0) {
    const whole = worldSize > 1 ? ` x ${worldSize} processes` : "";
    throw new InputError(
      `--batch-size ${settings.batchSize}${whole} is larger than the data (${source.size} samples); lower it`,
    );
  }
  const totalIters = settings.steps ?? settings.epochs * itersPerEpoch;
  const training = prepareTraining({ method, settings, itersPerEpoch, totalIters, device, parallel });
  const { optimizer, scaler, schedules, random } = training;
  let start = 0;
  // Every rank reads the checkpoint (the run folder is shared, as DDP assumes).
  const restored = options.resume ? loadCheckpoint(run, method, optimizer, device) : null;
  if (restored && restored.step >= totalIters) {
    const finished = restored.step === totalIters ? "is finished" : `is at step ${restored.step} already`;
    throw new InputError(
      `the run in ${run.path} ${finished}; give --steps above ${restored.step} to train it further`,
    );
  }
  if (isLeader && options.resume) {
    if (!restored) printNote(`${run.path} has no checkpoint yet: the run starts again from step 0`);
    run.truncateMetrics(restored?.step ?? 0); // the steps after the checkpoint are trained again
  }
  if (isLeader && options.record) run.writeConfig(options.record);
  if (isLeader && options.environment) {
    run.appendEnvironment({ startStep: restored?.step ?? 0, ...options.environment });
  }
  if (restored) {
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
  let savedStep = restored?.step ?? 0;
  /** A write into the run folder; a full or failing disk ends the run in one line, the last checkpoint whole. */
  const writing = (what: string, write: () => void) => {
    try {
      write();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === undefined) throw error;
      const last =
        savedStep > 0 ? `the checkpoint of step ${savedStep} is intact` : "no checkpoint was written yet";
      throw new TrainingError(
        `cannot write ${what} in ${run.path} (${code}); ${last}: free space and continue with: onevideo pretrain --resume --out ${run.path}`,
      );
    }
  };
  const saveNow = (step: number) => {
    const randomStates = parallel.gatherNumbers(random.state);
    if (!isLeader) return;
    const state = { step, randomState: randomStates[0], randomStates, gradScaler: scaler?.state };
    writing(`the checkpoint of step ${step}`, () =>
      saveCheckpoint(run, state, method, optimizer, device, settings.keepCheckpoints),
    );
    savedStep = step;
  };
  const progress = options.onProgress ?? progressPrinter(totalIters);
  let firstLoss = Number.NaN;
  let lastLoss = Number.NaN;
  let order: number[] = [];
  let orderEpoch = -1;
  let dataMs = 0;
  let stepMs = 0;
  stopSignals.catch();
  try {
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
      const images = source.batch(indices, device);
      const loaded = performance.now();
      const { loss, metrics } = trainStep(training, images, iteration, settings.clipGrad);
      images.dispose();
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
        writing("metrics.jsonl", () => run.appendMetrics(record));
        dataMs = 0;
        stepMs = 0;
      }
      if (isLeader) {
        const lr = schedules.learningRate[iteration];
        progress({ step, totalSteps: totalIters, firstStep: start, loss, lr, logged: logNow });
      }
      if (step % settings.checkpointEvery === 0 || step === totalIters) saveNow(step);
      await new Promise((resolve) => setImmediate(resolve)); // let I/O and collectors run
      // Every rank stops at the same step: the first signal any of them got decides.
      const signals = parallel.gatherNumbers(stopSignals.requested());
      const stoppedBy = signalName(Math.max(...signals));
      const asked = options.stopAfterStep !== undefined && step >= options.stopAfterStep;
      if ((stoppedBy || asked) && step < totalIters) {
        if (step % settings.checkpointEvery !== 0) saveNow(step);
        if (isLeader) progress(null);
        return { steps: step, firstLoss, lastLoss, weights: "", ...(stoppedBy ? { stoppedBy } : {}) };
      }
    }
  } finally {
    stopSignals.release();
  }
  if (!isLeader) return { steps: totalIters, firstLoss, lastLoss, weights: "" };
  progress(null);
  const weights = run.weightsPath;
  writing("the exported weights", () => run.writeExports(method.exports()));
  const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  writing("summary.json", () => run.writeSummary({ steps: totalIters, firstLoss, lastLoss, peakRssMb }));
  return { steps: totalIters, firstLoss, lastLoss, weights };
}

function signalName(number: number): NodeJS.Signals | undefined {
  return (Object.keys(constants.signals) as NodeJS.Signals[]).find(
    (name) => constants.signals[name] === number,
  );
}
