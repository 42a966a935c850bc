// Process-wide engine settings: random seeds and generator state, threads, devices.
import { native } from "./native.ts";
import { Tensor } from "./tensor.ts";

/** Seeds libtorch's default generators (CPU and, when present, CUDA). */
export function manualSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0)
    throw new Error(`seed must be a non-negative integer, got ${seed}`);
  native.manualSeed(seed);
}

/** The default generator's state (a uint8 tensor), to resume a run exactly. */
export function getRngState(device = "cpu"): Tensor {
  return Tensor.fromHandle(native.getRngState(device));
}

export function setRngState(state: Tensor, device = "cpu"): void {
  native.setRngState(state.handle, device);
}

export function setNumThreads(count: number): void {
  if (!Number.isInteger(count) || count < 1)
    throw new Error(`thread count must be a positive integer, got ${count}`);
  native.setNumThreads(count);
}

export function getNumThreads(): number {
  return native.getNumThreads();
}

export const cuda = {
  isAvailable: (): boolean => native.cudaAvailable(),
  deviceCount: (): number => native.cudaDeviceCount(),
  synchronize: (): void => native.cudaSynchronize(),
  /** Peak bytes held by tensors on the GPU since the last reset (torch.cuda.max_memory_allocated). */
  maxMemoryAllocated: (device = "cuda"): number => native.cudaMaxMemoryAllocated(device),
  resetPeakMemoryStats: (device = "cuda"): void => native.cudaResetPeakMemoryStats(device),
};

/** libtorch's version, e.g. "1.13.1". */
export function libtorchVersion(): string {
  return native.version();
}

/**
 * SIGINT and SIGTERM as requests to stop: while caught, the first one is recorded for the
 * caller to read between steps, and a second ends the process at once.
 */
export const stopSignals = {
  catch: (): void => native.catchStopSignals(),
  release: (): void => native.releaseStopSignals(),
  /** The number of the signal that asked to stop, or 0. */
  requested: (): number => native.stopSignal(),
};
