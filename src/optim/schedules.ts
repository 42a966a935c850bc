// Per-iteration schedules, precomputed as arrays (as DINO does): index by global step.

export interface CosineScheduleOptions {
  base: number;
  final: number;
  epochs: number;
  itersPerEpoch: number;
  warmupEpochs?: number;
  warmupStart?: number;
}

/**
 * Linear warm-up from warmupStart to base over warmupEpochs, then a half cosine
 * from base to final over the remaining iterations.
 */
export function cosineSchedule(options: CosineScheduleOptions): Float64Array {
  const { base, final, epochs, itersPerEpoch } = options;
  const warmupIters = Math.round((options.warmupEpochs ?? 0) * itersPerEpoch);
  const total = Math.round(epochs * itersPerEpoch);
  if (!(total > 0)) throw new Error(`cosineSchedule: epochs * itersPerEpoch must be positive, got ${total}`);
  if (warmupIters > total)
    throw new Error(
      `cosineSchedule: warm-up (${warmupIters} iterations) longer than the schedule (${total})`,
    );
  const schedule = new Float64Array(total);
  const start = options.warmupStart ?? 0;
  for (let i = 0; i < warmupIters; i++) {
    schedule[i] = warmupIters === 1 ? start : start + ((base - start) * i) / (warmupIters - 1);
  }
  const cosineIters = total - warmupIters;
  for (let i = 0; i < cosineIters; i++) {
    schedule[warmupIters + i] = final + 0.5 * (base - final) * (1 + Math.cos((Math.PI * i) / cosineIters));
  }
  return schedule;
}
