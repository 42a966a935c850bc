// A run interrupted halfway and resumed reaches exactly the weights of a run that never stopped.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { resolveDinoConfig, runPretrain } from "../../src/cli/pretrain.ts";
import { readSafetensors } from "../../src/torch/index.ts";
import { scratchDir, syntheticVideo } from "../helpers/videos.ts";

const dir = scratchDir();
const video = syntheticVideo(join(dir, "pattern.mp4"), 48, "96x64");

function config(out: string) {
  return resolveDinoConfig({
    video,
    out,
    cacheDir: join(dir, "cache"),
    arch: "vit_tiny",
    patchSize: 8,
    imageSize: 16,
    localCrops: 1,
    localCropSize: 8,
    outDim: 64,
    headHiddenDim: 32,
    bottleneckDim: 16,
    batchSize: 4,
    steps: 6,
    clipLength: 4,
    clipSpacing: 4,
    warmupEpochs: 0,
    freezeLastLayerEpochs: 0.1,
    checkpointEvery: 100,
    logEvery: 1,
    device: "cpu",
  });
}

test("N steps straight equal N/2 steps, a resume, and N/2 more", async () => {
  const straight = await runPretrain(config(join(dir, "straight")), false);
  const halfway = await runPretrain(config(join(dir, "resumed")), false, 3);
  assert.equal(halfway.steps, 3);
  const resumed = await runPretrain(config(join(dir, "resumed")), true);
  assert.equal(resumed.steps, 6);
  const a = readSafetensors(straight.weights).tensors;
  const b = readSafetensors(resumed.weights).tensors;
  assert.ok(a.size > 100);
  for (const [name, tensor] of a) assert.deepEqual(b.get(name)!.toArray(), tensor.toArray(), name);
  // And the checkpoints hold the student, the teacher, the optimiser and the centre.
  const latest = readSafetensors(join(dir, "resumed", "checkpoints", "step-00000006.safetensors")).tensors;
  for (const key of [
    "student.backbone.cls_token",
    "teacher.head.last_layer.weight_v",
    "state.dino_loss.center",
    "rng.cpu",
  ]) {
    assert.ok(latest.has(key), key);
  }
  assert.ok([...latest.keys()].some((key) => key.startsWith("optimizer.") && key.endsWith(".exp_avg_sq")));
});
