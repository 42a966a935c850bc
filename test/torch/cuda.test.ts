// CUDA paths, run where the libtorch has CUDA and a GPU is visible (never in CI).
import assert from "node:assert/strict";
import { test } from "node:test";
import { createVit } from "../../src/models/vit.ts";
import { AdamW } from "../../src/optim/index.ts";
import { cuda, F, getRngState, manualSeed, randn, scope } from "../../src/torch/index.ts";
import { maxAbsDiff } from "../helpers/python.ts";

const skip = cuda.isAvailable() ? false : "this libtorch has no CUDA or no GPU is visible";

test("a ViT training step on cuda matches the same step on cpu", { skip }, () => {
  manualSeed(11);
  const onCpu = createVit("vit_tiny", { imageSize: 32, patchSize: 8, depth: 2 });
  const onGpu = createVit("vit_tiny", { imageSize: 32, patchSize: 8, depth: 2 });
  onGpu.loadStateDict(onCpu.stateDict());
  onGpu.to("cuda");
  assert.equal(onGpu.parameters()[0].device, "cuda:0");
  const images = randn([4, 3, 32, 32]);
  const results = [onCpu, onGpu].map((model) => {
    const device = model.parameters()[0].device;
    const optimizer = new AdamW(model.parameters(), { lr: 1e-3 });
    return scope(() => {
      const { cls } = model.forward(images.to(device));
      const loss = F.normalize(cls, 2, -1).sum(0).pow(2).sum();
      loss.backward();
      const gradient = model.stateDict().get("blocks.1.mlp.fc2.weight")!.grad!.cpu();
      optimizer.step();
      return { loss: loss.item(), cls: cls.cpu(), gradient };
    });
  });
  const [cpu, gpu] = results;
  assert.ok(Math.abs(cpu.loss - gpu.loss) < 1e-4 * Math.abs(cpu.loss), `loss ${cpu.loss} vs ${gpu.loss}`);
  // cuDNN convolutions run in TF32 by default (10-bit mantissa): features agree to ~1e-3.
  assert.ok(maxAbsDiff(cpu.cls, gpu.cls) < 1e-2, "features");
  const scale = cpu.gradient.abs().max().item();
  assert.ok(maxAbsDiff(cpu.gradient, gpu.gradient) < 1e-3 * scale, "gradient");
  const moved = onGpu.stateDict().get("blocks.1.mlp.fc2.weight")!.cpu();
  assert.ok(
    maxAbsDiff(moved, onCpu.stateDict().get("blocks.1.mlp.fc2.weight")!) < 2.5e-3,
    "weights after the step",
  );
  assert.ok(getRngState("cuda:0").numel > 0);
});
