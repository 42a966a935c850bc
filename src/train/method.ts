// What the training loop needs from a method; it knows nothing else about it.
import type { Random } from "../util/random.ts";
import type { Module } from "../nn/index.ts";
import { stack, type Tensor } from "../torch/index.ts";
import type { DataParallel } from "./data_parallel.ts";
import type { RunExports } from "./run_folder.ts";

export interface StepResult {
  /** The scalar to minimise; the loop runs backward on it. */
  loss: Tensor;
  /**
   * Extra figures to log (e.g. collapse signals). A figure computed on the device stays
   * a scalar tensor: the loop reads them all with the loss in one transfer after the
   * step, so the host never waits for the GPU mid-step.
   */
  metrics: Record<string, number | Tensor>;
}

/** The loss and every metric as numbers: one read from the device for all of them. */
export function readStepResult(result: StepResult): { loss: number; metrics: Record<string, number> } {
  const entries = Object.entries(result.metrics);
  const onDevice = entries.filter((entry): entry is [string, Tensor] => typeof entry[1] !== "number");
  const scalars = [result.loss, ...onDevice.map(([, value]) => value)].map((value) => value.detach().float());
  const [loss, ...values] = stack(scalars).toArray();
  const read = new Map(onDevice.map(([name], i) => [name, values[i]]));
  const metrics = Object.fromEntries(
    entries.map(([name, value]) => [name, typeof value === "number" ? value : read.get(name)!]),
  );
  return { loss, metrics };
}

export interface StepContext {
  /** Augmentation randomness; its state is saved with checkpoints. */
  random: Random;
  /** Epoch, fractional within an epoch (iteration / iterations per epoch). */
  epoch: number;
  /** The data-parallel job, for statistics over the whole batch (DINO's centre); absent: one process. */
  parallel?: DataParallel;
}

export interface TrainableMethod {
  /** Trained by the optimiser; saved as "student.*". */
  readonly student: Module;
  /** The EMA of the student; saved as "teacher.*". */
  readonly teacher: Module;
  /** State beyond the two networks that a resumed run needs (e.g. DINO's centre). */
  extraState(): Map<string, Tensor>;
  /**
   * What the run exports: the teacher's backbone (weights.safetensors, what evaluation loads)
   * and, for methods whose teacher is a whole dense encoder (VADeR), that encoder too.
   */
  exports(): RunExports;
  /** Forward and loss on a batch of [B, 3, H, W] images in [0, 1]. */
  step(images: Tensor, context: StepContext): StepResult;
  /** Called between backward (and clipping) and the optimiser step, e.g. to hold a layer fixed. */
  beforeOptimizerStep?(epoch: number): void; // fractional epoch
}
