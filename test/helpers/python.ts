// Runs python3-torch (Debian's, the reference implementation) and exchanges tensors through safetensors.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readSafetensors, type Tensor, writeSafetensors } from "../../src/torch/index.ts";

export const referenceDir = resolve(fileURLToPath(new URL("../reference", import.meta.url)));
/** The python3 that holds the reference torch: Debian's unless ONEVIDEO_REFERENCE_PYTHON names another. */
export const referencePython = process.env.ONEVIDEO_REFERENCE_PYTHON ?? "/usr/bin/python3";

/**
 * Writes `inputs` to inputs.safetensors, runs the python script (which finds `inputs`
 * loaded and must fill the dict `outputs`), and returns the outputs as tensors.
 */
export function runTorch(script: string, inputs: Map<string, Tensor>): Map<string, Tensor> {
  const dir = mkdtempSync(join(tmpdir(), "onevideo-ref-"));
  try {
    writeSafetensors(join(dir, "inputs.safetensors"), inputs);
    const program = [
      "import sys, torch",
      "import torch.nn.functional as F",
      "import safetensors_io",
      "torch.set_num_threads(1)",
      `inputs = safetensors_io.load(${JSON.stringify(join(dir, "inputs.safetensors"))})`,
      "outputs = {}",
      script,
      `safetensors_io.save(outputs, ${JSON.stringify(join(dir, "outputs.safetensors"))})`,
    ].join("\n");
    execFileSync(referencePython, ["-c", program], {
      env: { ...process.env, PYTHONPATH: referenceDir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    return readSafetensors(join(dir, "outputs.safetensors")).tensors;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Largest absolute difference between two tensors of the same shape. */
export function maxAbsDiff(a: Tensor, b: Tensor): number {
  if (a.shape.join(",") !== b.shape.join(",")) {
    throw new Error(`shapes differ: [${a.shape}] vs [${b.shape}]`);
  }
  const x = a.toArray();
  const y = b.toArray();
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
  return worst;
}
