// A run interrupted halfway and resumed reaches exactly the weights of a run that never
// stopped, for DINO and for DoRA (whose random heads and masked views are in the saved state).
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { type MethodName, resolveConfig, runPretrain } from "../../src/cli/pretrain.ts";
import { readSafetensors } from "../../src/torch/index.ts";
import { scratchDir, syntheticVideo } from "../helpers/videos.ts";

const dir = scratchDir();
const video = syntheticVideo(join(dir, "pattern.mp4"), 48, "96x64");

function config(method: MethodName, out: string) {
  return resolveConfig({
    method,
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
    ...(method === "dora" ? { batchSize: 2, objects: 2 } : {}),
  }).config;
}

for (const method of ["dino", "dora"] as const) {
  test(`${method}: N steps straight equal N/2 steps, a resume, and N/2 more`, async () => {
    const run = (name: string) => join(dir, `${method}-${name}`);
    const straight = await runPretrain(config(method, run("straight")), false, undefined, method);
    const halfway = await runPretrain(config(method, run("resumed")), false, 3, method);
    assert.equal(halfway.steps, 3);
    const resumed = await runPretrain(config(method, run("resumed")), true, undefined, method);
    assert.equal(resumed.steps, 6);
    const a = readSafetensors(straight.weights).tensors;
    const b = readSafetensors(resumed.weights).tensors;
    assert.ok(a.size > 100);
    for (const [name, tensor] of a) assert.deepEqual(b.get(name)!.toArray(), tensor.toArray(), name);
    // And the checkpoints hold the student, the teacher, the optimiser and the centre.
    const latest = readSafetensors(join(run("resumed"), "checkpoints", "step-00000006.safetensors")).tensors;
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
}

test("a finished DoRA run holds pictures of the objects its teacher tracks", () => {
  const pictures = readdirSync(join(dir, "dora-straight", "pictures"));
  const objects = pictures.filter((name) => /^objects-\d+\.png$/.test(name));
  assert.equal(objects.length, 3, pictures.join(" "));
  const png = readFileSync(join(dir, "dora-straight", "pictures", objects[0]));
  // A row of the clip's 4 frames: wider than 3 frames' worth of a 16 px-high strip.
  const [width, height] = [png.readUInt32BE(16), png.readUInt32BE(20)];
  assert.ok(width > 3 * height, `${width} x ${height}`);
});
