// Which device and precision a job runs on: the ones asked for, checked against this build
// and machine, else a GPU when there is one (bf16 there, fp32 on the CPU).
import { InputError } from "../errors.ts";
import type { Precision } from "./autocast.ts";
import { cuda } from "./runtime.ts";
import type { Device } from "./tensor.ts";

/** The device asked for, else cuda when there is one; a data-parallel worker takes GPU LOCAL_RANK. */
export function pickDevice(requested: string | undefined, localRank = 0, worldSize = 1): Device {
  if (requested?.startsWith("cuda") && !cuda.isAvailable()) {
    throw new InputError(
      `--device ${requested}: this libtorch has no CUDA or no GPU is visible; use --device cpu`,
    );
  }
  const device = (requested ?? (cuda.isAvailable() ? "cuda" : "cpu")) as Device;
  if (device !== "cuda" || worldSize === 1) return device;
  if (localRank >= cuda.deviceCount()) {
    throw new InputError(
      `LOCAL_RANK ${localRank} has no GPU of its own (${cuda.deviceCount()} visible); start at most that many processes per machine`,
    );
  }
  return `cuda:${localRank}`;
}

/** The precision asked for, else bf16 on a GPU and fp32 on the CPU. */
export function pickPrecision(requested: Precision | undefined, device: Device): Precision {
  if (requested === "fp16" && device === "cpu") {
    throw new InputError(
      "--precision fp16 needs a GPU (the CPU autocasts to bf16); use --precision bf16 or fp32",
    );
  }
  return requested ?? (device.startsWith("cuda") ? "bf16" : "fp32");
}
