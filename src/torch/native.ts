// Loads the libtorch addon once per process, on first use, and prepares the runtime around it:
// BLAS core type, intra-op threads, and a loud warning when BLAS is the slow reference one.
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { InputError } from "../errors.ts";
import { addonBuildCommand, installAdvice, missingBuildPackages, packageRoot } from "../util/system.ts";

/** An opaque reference to one native at::Tensor. */
export type NativeHandle = { readonly __nativeTensor: unique symbol };

export interface NativeAddon {
  resolveOp(name: string, overload: string): number;
  opSchema(id: number): string;
  callOp(id: number, ...args: unknown[]): unknown;
  dispose(handle: NativeHandle): void;
  isDisposed(handle: NativeHandle): boolean;
  shape(handle: NativeHandle): number[];
  dtype(handle: NativeHandle): number;
  device(handle: NativeHandle): string;
  describe(handle: NativeHandle): string;
  liveTensors(): number;
  fromBuffer(data: ArrayBufferView, shape: readonly number[], dtype: number): NativeHandle;
  toBuffer(handle: NativeHandle): ArrayBuffer;
  backward(
    outputs: NativeHandle[],
    gradients: NativeHandle[] | null,
    retainGraph?: boolean,
    createGraph?: boolean,
  ): void;
  grad(
    outputs: NativeHandle[],
    inputs: NativeHandle[],
    gradOutputs: NativeHandle[] | null,
    retainGraph: boolean | undefined,
    createGraph: boolean,
    allowUnused: boolean,
  ): (NativeHandle | null)[];
  setRequiresGrad(handle: NativeHandle, requires: boolean): void;
  requiresGrad(handle: NativeHandle): boolean;
  isLeaf(handle: NativeHandle): boolean;
  getGrad(handle: NativeHandle): NativeHandle | null;
  setGrad(handle: NativeHandle, gradient: NativeHandle | null): void;
  retainGrad(handle: NativeHandle): void;
  gradFn(handle: NativeHandle): string | null;
  setGradEnabled(enabled: boolean): void;
  isGradEnabled(): boolean;
  setNumThreads(count: number): void;
  getNumThreads(): number;
  manualSeed(seed: number): void;
  getRngState(device?: string): NativeHandle;
  setRngState(state: NativeHandle, device?: string): void;
  cudaAvailable(): boolean;
  cudaDeviceCount(): number;
  cudaSynchronize(): void;
  cudaMaxMemoryAllocated(device?: string): number;
  cudaResetPeakMemoryStats(device?: string): void;
  version(): string;
  buildConfig(): string;
  initProcessGroup(options: {
    backend: string;
    masterAddr: string;
    masterPort: number;
    rank: number;
    worldSize: number;
    timeoutMs: number;
  }): void;
  allReduce(tensors: NativeHandle[], op: string): void;
  broadcast(tensors: NativeHandle[], root: number): void;
  armGradientAverage(parameters: NativeHandle[], bucketBytes: number): void;
  finishGradientAverage(): [number, number];
  destroyProcessGroup(): void;
  distributedBackends(): string[];
  autocastEnter(device: string, dtype: number): [boolean, number];
  autocastExit(device: string, wasEnabled: boolean, previousDtype: number): void;
  catchStopSignals(): void;
  releaseStopSignals(): void;
  stopSignal(): number;
}

/** Where the addon is looked for: ONEVIDEO_NATIVE, else the package's build folder. */
export const addonPath =
  process.env.ONEVIDEO_NATIVE ?? resolve(packageRoot, "build/native/onevideo_native.node");

function cpuHasAvx512(): boolean {
  try {
    return /\bavx512f\b/.test(readFileSync("/proc/cpuinfo", "utf8"));
  } catch {
    return false;
  }
}

/** The BLAS library the process actually mapped, read from /proc/self/maps. */
export function loadedBlasLibrary(): string | undefined {
  return loadedLibrary(/lib(open)?blas[^/]*\.so/);
}

/** The file of the first library mapped into this process whose path matches, links resolved. */
export function loadedLibrary(pattern: RegExp): string | undefined {
  try {
    const maps = readFileSync("/proc/self/maps", "utf8");
    const line = maps.split("\n").find((entry) => pattern.test(entry));
    const path = line?.slice(line.indexOf("/"));
    return path ? realpathSync(path) : undefined;
  } catch {
    return undefined;
  }
}

function loadAddon(): NativeAddon {
  // OpenBLAS reads its core type when it is loaded, that is, with the addon.
  if (process.env.OPENBLAS_CORETYPE === undefined && cpuHasAvx512()) {
    process.env.OPENBLAS_CORETYPE = "SkylakeX";
  }
  const threads = process.env.ONEVIDEO_THREADS;
  const requested = Number(threads ?? availableParallelism());
  if (!Number.isInteger(requested) || requested < 1) {
    throw new InputError(
      `ONEVIDEO_THREADS=${threads} is not a positive whole number; unset it or give one, e.g. 2`,
    );
  }
  if (!existsSync(addonPath)) {
    const missing = missingBuildPackages();
    const first = missing.length > 0 ? `${installAdvice(missing)}, then ` : "";
    throw new InputError(`the native addon is not built (${addonPath}); ${first}run '${addonBuildCommand}'`);
  }
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(addonPath) as NativeAddon;
  } catch (error) {
    // Built, but a library it links (libtorch, its BLAS) is gone or of another version.
    const reason = String((error as Error).message).split("\n")[0];
    throw new InputError(
      `the native addon does not load (${reason}); ${installAdvice(["libtorch-dev"])}, then run '${addonBuildCommand}'`,
    );
  }
  addon.setNumThreads(requested);
  const blas = loadedBlasLibrary();
  if (blas && !/openblas|mkl|blis/i.test(blas) && process.env.ONEVIDEO_QUIET_BLAS === undefined) {
    process.stderr.write(
      `\nWARNING: onevideo: libtorch is using the reference BLAS (${blas}), about 25x slower.\n` +
        `WARNING: ${installAdvice(["libopenblas0-openmp"])}.\n\n`,
    );
  }
  return addon;
}

/**
 * The addon, loaded on first use, so that what needs no tensors (--help, option errors) runs
 * where it is not built yet. After the first use `native` is the addon itself (a live binding).
 */
export let native: NativeAddon = new Proxy({} as NativeAddon, {
  get: (_, key) => {
    native = loadAddon();
    return native[key as keyof NativeAddon];
  },
});
