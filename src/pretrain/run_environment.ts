// What a run was trained with besides its options, recorded in environment.json once per start
// (the first, then each resume): onevideo's version (and commit, in a checkout), libtorch's, the
// device, the precision, the threads and the processes.
import { arch, cpus, hostname, platform } from "node:os";
import { type Device, getNumThreads, libtorchVersion, type Precision } from "../torch/index.ts";
import { loadedBlasLibrary } from "../torch/native.ts";
import { gitCommit, packageVersion } from "../util/system.ts";

export interface RunEnvironment {
  onevideo: string;
  gitCommit?: string;
  libtorch: string;
  blas?: string;
  device: Device;
  precision: Precision;
  threads: number;
  worldSize: number;
  node: string;
  machine: string;
  host: string;
  startedAt: string;
}

export function runEnvironment(device: Device, precision: Precision, worldSize: number): RunEnvironment {
  return {
    onevideo: packageVersion(),
    gitCommit: gitCommit(),
    libtorch: libtorchVersion(),
    blas: loadedBlasLibrary(),
    device,
    precision,
    threads: getNumThreads(),
    worldSize,
    node: process.version,
    machine: `${platform()} ${arch()}, ${cpus().length} cores (${cpus()[0]?.model.trim() ?? "unknown"})`,
    host: hostname(),
    startedAt: new Date().toISOString(),
  };
}
