// c10d collectives, typed: one process group per process (Gloo for CPU tensors, NCCL for
// CUDA tensors), joined through a TCP store at masterAddr:masterPort as torchrun's are.
import { native } from "./native.ts";
import type { Tensor } from "./tensor.ts";

export type Backend = "gloo" | "nccl";

export interface ProcessGroupOptions {
  backend: Backend;
  masterAddr: string;
  masterPort: number;
  rank: number;
  worldSize: number;
  /** How long a rendezvous or a collective may wait for the other ranks. */
  timeoutMs: number;
}

/** The backends this build of the addon has (Gloo needs libgloo-dev at build time; NCCL a CUDA libtorch). */
export function distributedBackends(): Backend[] {
  return native.distributedBackends() as Backend[];
}

export function initProcessGroup(options: ProcessGroupOptions): void {
  native.initProcessGroup(options);
}

/** Reduces each tensor across ranks in place; all are launched before any is waited on. */
export function allReduce(tensors: Tensor[], op: "sum" | "max" | "min" = "sum"): void {
  if (tensors.length > 0)
    native.allReduce(
      tensors.map((tensor) => tensor.handle),
      op,
    );
}

/** Gives every rank root's values, in place. */
export function broadcast(tensors: Tensor[], root = 0): void {
  if (tensors.length > 0)
    native.broadcast(
      tensors.map((tensor) => tensor.handle),
      root,
    );
}

/** How the last gradient average went: its buckets, and how many started before backward ended. */
export interface GradientAverageReport {
  buckets: number;
  launchedDuringBackward: number;
}

/**
 * Makes the next backward average the gradients of `parameters` across ranks as they
 * come, as DDP does: buckets of about `bucketBytes` (reverse parameter order, one dtype
 * each) start their all-reduce the moment their last gradient is in.
 */
export function armGradientAverage(parameters: Tensor[], bucketBytes: number): void {
  native.armGradientAverage(
    parameters.map((parameter) => parameter.handle),
    bucketBytes,
  );
}

/** Sends what backward left (gradients it never reached), waits, and writes the means into the gradients. */
export function finishGradientAverage(): GradientAverageReport {
  const [buckets, launchedDuringBackward] = native.finishGradientAverage();
  return { buckets, launchedDuringBackward };
}

export function destroyProcessGroup(): void {
  native.destroyProcessGroup();
}
