// Data-parallel training over c10d, as PyTorch's DDP does it: every rank holds the whole
// model, reads its own share of each batch, and the gradients are averaged across ranks
// in buckets during backward, so every rank takes the same optimiser step. A single process
// is the same object with world size 1, where every collective is a no-op.
import type { Module } from "../nn/index.ts";
import {
  allReduce,
  armGradientAverage,
  type Backend,
  broadcast,
  destroyProcessGroup,
  distributedBackends,
  finishGradientAverage,
  type GradientAverageReport,
  type Device,
  initProcessGroup,
  noGrad,
  type Tensor,
  tensor,
  zeros,
} from "../torch/index.ts";
import { DistributedError, InputError } from "../errors.ts";
import { addonBuildCommand, installAdvice } from "../util/system.ts";

/** Where this process sits in the job, read from torchrun's environment variables. */
export interface WorldPlacement {
  rank: number;
  worldSize: number;
  localRank: number;
  masterAddr: string;
  masterPort: number;
}

function integerVariable(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new InputError(`${name}=${raw} is not a non-negative integer; fix the launcher's environment`);
  }
  return value;
}

/** RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT as torchrun (and SLURM scripts using them) set them. */
export function placementFromEnv(): WorldPlacement {
  const worldSize = integerVariable("WORLD_SIZE", 1);
  const rank = integerVariable("RANK", 0);
  if (worldSize < 1) throw new InputError("WORLD_SIZE=0: a job needs at least one process");
  if (rank >= worldSize) {
    throw new InputError(`RANK=${rank} is not below WORLD_SIZE=${worldSize}; fix the launcher's environment`);
  }
  return {
    rank,
    worldSize,
    localRank: integerVariable("LOCAL_RANK", rank),
    masterAddr: process.env.MASTER_ADDR || "127.0.0.1",
    masterPort: integerVariable("MASTER_PORT", 29500),
  };
}

/** DDP's default bucket size: gradients are reduced in ~25 MB flat buckets. */
const bucketBytes = 25 * 1024 * 1024;

export class DataParallel {
  /** Set when a collective failed: the group cannot be torn down cleanly, the process just ends. */
  private broken = false;

  private constructor(
    readonly rank: number,
    readonly worldSize: number,
    readonly localRank: number,
    readonly backend: Backend | null,
  ) {}

  /** One process: every collective does nothing. */
  static single(): DataParallel {
    return new DataParallel(0, 1, 0, null);
  }

  /** Joins the job described by `placement` (a no-op group for world size 1). */
  static join(placement: WorldPlacement, backend: Backend, timeoutMs: number): DataParallel {
    if (placement.worldSize === 1) return DataParallel.single();
    if (!distributedBackends().includes(backend)) {
      throw new InputError(
        backend === "nccl"
          ? "this build has no NCCL: build the addon against a CUDA libtorch (LIBTORCH=... npm run build:native)"
          : `this build has no Gloo: ${installAdvice(["libgloo-dev"])}, then run '${addonBuildCommand}'`,
      );
    }
    try {
      initProcessGroup({ backend, timeoutMs, ...placement });
    } catch (error) {
      throw new DistributedError(
        `rank ${placement.rank} could not join the job at ${placement.masterAddr}:${placement.masterPort} ` +
          `within ${timeoutMs / 1000} s (${(error as Error).message}); check that every rank started and the port is free`,
      );
    }
    return new DataParallel(placement.rank, placement.worldSize, placement.localRank, backend);
  }

  get isDistributed(): boolean {
    return this.worldSize > 1;
  }

  /** Rank 0 writes files (checkpoints, metrics, pictures); the others only train. */
  get isLeader(): boolean {
    return this.rank === 0;
  }

  /** Runs a collective, turning its failure into one message that names this rank. */
  private collective(what: string, run: () => void): void {
    try {
      run();
    } catch (error) {
      this.broken = true;
      throw new DistributedError(
        `rank ${this.rank}: ${what} failed (${(error as Error).message.split("\n")[0]}); ` +
          "another worker stopped or hung; resume from the last checkpoint with --resume",
      );
    }
  }

  /** Makes every rank start from rank 0's tensors (weights, buffers, state), as DDP does. */
  broadcastTensors(tensors: Tensor[]): void {
    if (!this.isDistributed) return;
    this.collective("broadcasting rank 0's weights", () => broadcast(tensors, 0));
  }

  broadcastModule(module: Module): void {
    this.broadcastTensors([...module.parameters(), ...module.namedBuffers().map(([, buffer]) => buffer)]);
  }

  /** Replaces each tensor with its mean over ranks, in place. */
  averageInPlace(tensors: Tensor[]): void {
    if (!this.isDistributed) return;
    noGrad(() => {
      this.collective("averaging across ranks", () => allReduce(tensors, "sum"));
      for (const t of tensors) t.div_(this.worldSize);
    });
  }

  /** Where host numbers go to be reduced: NCCL reduces only tensors on this rank's GPU. */
  private get scratchDevice(): Device {
    return this.backend === "nccl" ? `cuda:${this.localRank}` : "cpu";
  }

  /** The mean over ranks of one number per rank (e.g. the loss, so every rank sees the same one). */
  averageNumber(value: number): number {
    if (!this.isDistributed) return value;
    using holder = tensor([value], { dtype: "float64", device: this.scratchDevice });
    this.averageInPlace([holder]);
    return holder.item();
  }

  /** Every rank's number, in rank order (e.g. each rank's augmentation state for a checkpoint). */
  gatherNumbers(value: number): number[] {
    if (!this.isDistributed) return [value];
    const slots = new Float64Array(this.worldSize);
    slots[this.rank] = value;
    using holder = tensor(slots, { device: this.scratchDevice });
    this.collective("gathering per-rank state", () => allReduce([holder], "sum"));
    return holder.toArray();
  }

  /**
   * Every rank's rows of `rows` ([count, ...], counts may differ), stacked in rank order on
   * every rank: MoCo's gather of the keys, so all ranks' queues stay the same. One process:
   * `rows` itself.
   */
  gatherRows(rows: Tensor): Tensor {
    if (!this.isDistributed) return rows;
    const counts = this.gatherNumbers(rows.size(0));
    const offset = counts.slice(0, this.rank).reduce((sum, count) => sum + count, 0);
    const total = counts.reduce((sum, count) => sum + count, 0);
    const gathered = zeros([total, ...rows.shape.slice(1)], { dtype: rows.dtype, device: rows.device });
    noGrad(() => {
      using own = gathered.narrow(0, offset, rows.size(0));
      own.copy_(rows);
    });
    this.collective("gathering rows", () => allReduce([gathered], "sum"));
    return gathered;
  }

  /**
   * Backward on `loss` with the gradients of `parameters` averaged across ranks as they
   * come (DDP's overlap): ~25 MB buckets start their all-reduce while backward goes on
   * with the layers below; gradients backward never reached are sent when it ends.
   */
  backward(loss: Tensor, parameters: Tensor[]): GradientAverageReport | null {
    if (!this.isDistributed) {
      loss.backward();
      return null;
    }
    let report: GradientAverageReport | null = null;
    this.collective("averaging gradients", () => {
      armGradientAverage(parameters, bucketBytes);
      loss.backward();
      report = finishGradientAverage();
    });
    return report;
  }

  leave(): void {
    if (this.isDistributed && !this.broken) destroyProcessGroup();
  }
}
