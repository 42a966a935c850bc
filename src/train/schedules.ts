// The per-iteration schedules of a run, precomputed as DINO does: learning rate and
// weight decay (cosine, the rate with a linear warm-up) and the teacher's EMA momentum.
import { cosineSchedule } from "../optim/index.ts";

export interface ScheduleSettings {
  lr: number;
  minLr: number;
  batchSize: number;
  warmupEpochs: number;
  /** A share of the run instead of epochs: the same warm-up whatever the data's length. */
  warmupRatio?: number;
  weightDecay: number;
  weightDecayEnd: number;
  teacherMomentum: number;
  /** Where the momentum's cosine ends: 1 for DINO; the start value keeps it constant (MoCo). */
  teacherMomentumEnd?: number;
}

export interface RunSchedules {
  learningRate: Float64Array;
  weightDecay: Float64Array;
  teacherMomentum: Float64Array;
}

export function buildSchedules(
  settings: ScheduleSettings,
  itersPerEpoch: number,
  totalIters: number,
): RunSchedules {
  const epochs = totalIters / itersPerEpoch;
  // A run shorter than the warm-up warms up over its first tenth instead.
  const warmupEpochs =
    settings.warmupRatio !== undefined
      ? settings.warmupRatio * epochs
      : settings.warmupEpochs < epochs
        ? settings.warmupEpochs
        : epochs / 10;
  return {
    learningRate: cosineSchedule({
      base: (settings.lr * settings.batchSize) / 256,
      final: settings.minLr,
      epochs,
      itersPerEpoch,
      warmupEpochs,
    }),
    weightDecay: cosineSchedule({
      base: settings.weightDecay,
      final: settings.weightDecayEnd,
      epochs,
      itersPerEpoch,
    }),
    teacherMomentum: cosineSchedule({
      base: settings.teacherMomentum,
      final: settings.teacherMomentumEnd ?? 1,
      epochs,
      itersPerEpoch,
    }),
  };
}
