// Mixed precision as torch.autocast: inside `autocast`, matrix products and convolutions
// on that device run in the lower precision; the parameters stay fp32 (master weights),
// and what is cast is cached for the region and dropped when it ends.
import { dtypeCode } from "./dtype.ts";
import { native } from "./native.ts";
import type { Device } from "./tensor.ts";

export type Precision = "fp32" | "bf16" | "fp16";

const lowerDType = { bf16: "bfloat16", fp16: "float16" } as const;

/**
 * Runs fn with autocast on for the device type of `device` (fp32: runs it as is).
 * As in PyTorch, the low-precision weight copies are cached for the whole region: a
 * forward under noGrad that comes first caches copies without a gradient path, and a
 * later forward of the same weights in the region would then train nothing.
 */
export function autocast<T>(device: Device, precision: Precision, fn: () => T): T {
  if (precision === "fp32") return fn();
  const deviceType = device.startsWith("cuda") ? "cuda" : "cpu";
  const [wasEnabled, previousDtype] = native.autocastEnter(deviceType, dtypeCode(lowerDType[precision]));
  try {
    return fn();
  } finally {
    native.autocastExit(deviceType, wasEnabled, previousDtype);
  }
}
