// Checkpoints: safetensors for every tensor (networks, optimiser state, method state, RNG)
// and a JSON sidecar for the rest. Each file is written beside its target and renamed
// over it, and the run folder's latest.json, written last, is the commit point: a crash
// at any moment leaves the previous checkpoint whole.
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Optimizer } from "../optim/index.ts";
import {
  type Device,
  getRngState,
  noGrad,
  readSafetensors,
  setRngState,
  type Tensor,
  writeSafetensors,
} from "../torch/index.ts";
import { InputError } from "../errors.ts";
import { writeFileAtomically } from "../util/atomic_file.ts";
import type { GradScalerState } from "./grad_scaler.ts";
import type { TrainableMethod } from "./method.ts";
import { checkpointExportsEntry, type RunFolder } from "./run_folder.ts";

export interface CheckpointState {
  /** Iterations completed. */
  step: number;
  /** State of the augmentation/data generator (rank 0's in a data-parallel run). */
  randomState: number;
  /** Every rank's generator state, in rank order, when the run was data-parallel. */
  randomStates?: number[];
  /** The fp16 loss scale and its growth counter. */
  gradScaler?: GradScalerState;
}

interface Sidecar extends CheckpointState {
  format: 1;
  /** SHA-256 of the .safetensors file, checked before the checkpoint is trusted. */
  sha256: string;
  optimizer: { paramSteps: Record<string, number>; groups: Record<string, number | boolean>[]; step: number };
}

function prefixed(prefix: string, tensors: Map<string, Tensor>): [string, Tensor][] {
  return [...tensors].map(([name, tensor]) => [`${prefix}.${name}`, tensor]);
}

export function saveCheckpoint(
  run: RunFolder,
  state: CheckpointState,
  method: TrainableMethod,
  optimizer: Optimizer<object>,
  device: Device,
  keep = 2,
): string {
  mkdirSync(run.checkpointsDir, { recursive: true });
  const checkpoint = run.checkpointPath(state.step);
  const optimizerState = optimizer.stateDict();
  const rng = getRngState("cpu");
  const tensors: [string, Tensor][] = [
    ...prefixed("student", method.student.stateDict()),
    ...prefixed("teacher", method.teacher.stateDict()),
    ...prefixed("optimizer", optimizerState.tensors),
    ...prefixed("state", method.extraState()),
    ["rng.cpu", rng],
  ];
  const cudaRng = device.startsWith("cuda") ? getRngState(device) : null;
  if (cudaRng) tensors.push(["rng.cuda", cudaRng]);
  const sha256 = writeSafetensors(
    `${checkpoint}.safetensors`,
    tensors,
    checkpointExportsEntry(method.teacher, method.exports()),
  );
  rng.dispose();
  cudaRng?.dispose();
  const sidecar: Sidecar = {
    format: 1,
    sha256,
    ...state,
    optimizer: {
      paramSteps: optimizerState.paramSteps,
      groups: optimizerState.groups,
      step: optimizerState.step,
    },
  };
  try {
    writeFileAtomically(`${checkpoint}.json`, JSON.stringify(sidecar, null, 1));
  } catch (error) {
    rmSync(`${checkpoint}.safetensors`, { force: true }); // no sidecar, no checkpoint
    throw error;
  }
  run.commitCheckpoint(checkpoint);
  // Older checkpoints beyond the newest `keep` go.
  const names = readdirSync(run.checkpointsDir)
    .filter((file) => /^step-\d+\.json$/.test(file))
    .map((file) => file.slice(0, -5))
    .sort();
  for (const old of names.slice(0, Math.max(0, names.length - keep))) {
    rmSync(join(run.checkpointsDir, `${old}.json`), { force: true });
    rmSync(join(run.checkpointsDir, `${old}.safetensors`), { force: true });
  }
  return `${checkpoint}.safetensors`;
}

/** Restores the newest checkpoint of a run into method and optimiser; returns its state, or null if none. */
export function loadCheckpoint(
  run: RunFolder,
  method: TrainableMethod,
  optimizer: Optimizer<object>,
  device: Device,
): CheckpointState | null {
  const directory = run.checkpointsDir;
  const intact = run.newestIntactCheckpoint();
  if (intact === null) return null;
  const sidecar = intact.sidecar as unknown as Sidecar;
  let tensors: Map<string, Tensor>;
  try {
    tensors = readSafetensors(`${intact.path}.safetensors`).tensors;
  } catch (error) {
    throw new InputError(`cannot resume from ${intact.path}.safetensors: ${(error as Error).message}`);
  }
  const section = (prefix: string) =>
    new Map(
      [...tensors]
        .filter(([name]) => name.startsWith(`${prefix}.`))
        .map(([name, tensor]) => [name.slice(prefix.length + 1), tensor] as [string, Tensor]),
    );
  try {
    method.student.loadStateDict(section("student"));
    method.teacher.loadStateDict(section("teacher"));
  } catch (error) {
    throw new InputError(
      `cannot resume from ${directory}: ${(error as Error).message} (was it made with other model options?)`,
    );
  }
  const extra = method.extraState();
  noGrad(() => {
    for (const [name, tensor] of section("state")) extra.get(name)?.copy_(tensor);
  });
  optimizer.loadStateDict({ tensors: section("optimizer"), ...sidecar.optimizer });
  setRngState(tensors.get("rng.cpu")!, "cpu");
  const cudaRng = tensors.get("rng.cuda");
  if (cudaRng && device.startsWith("cuda")) setRngState(cudaRng, device);
  for (const tensor of tensors.values()) tensor.dispose();
  return {
    step: sidecar.step,
    randomState: sidecar.randomState,
    randomStates: sidecar.randomStates,
    gradScaler: sidecar.gradScaler,
  };
}
