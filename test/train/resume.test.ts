// A run interrupted halfway and resumed reaches exactly the weights of a run that never
// stopped: DINO, DoRA (whose random heads and masked views are in the saved state) and
// VADeR (its queue, SGD momentum and batch-norm statistics).
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { pretrain, resolveConfig } from "../../src/pretrain/pretrain.ts";
import type { MethodName } from "../../src/pretrain/registry.ts";
import { readSafetensors } from "../../src/torch/index.ts";
import { scratchDir, syntheticVideo } from "../helpers/videos.ts";

const dir = scratchDir();
const video = syntheticVideo(join(dir, "pattern.mp4"), 48, "96x64");

function config(method: MethodName, out: string) {
  const run = {
    method,
    video,
    out,
    cacheDir: join(dir, "cache"),
    batchSize: 4,
    steps: 6,
    clipLength: 4,
    clipSpacing: 4,
    frameStride: 1,
    warmupEpochs: 0,
    checkpointEvery: 100,
    logEvery: 1,
    device: "cpu",
  };
  if (method === "vader") {
    // SGD momentum buffers, batch-norm statistics and the queue must all come back.
    const vader = { arch: "resnet18", imageSize: 32, embeddingDim: 8, decoderWidth: 32, queueLength: 48 };
    return resolveConfig({ ...run, ...vader, pairsPerImage: 4 });
  }
  return resolveConfig({
    ...run,
    arch: "vit_tiny",
    patchSize: 8,
    imageSize: 16,
    localCrops: 1,
    localCropSize: 8,
    outDim: 64,
    headHiddenDim: 32,
    bottleneckDim: 16,
    freezeLastLayerEpochs: 0.1,
    ...(method === "dora" ? { batchSize: 2, objects: 2 } : {}),
  });
}

for (const method of ["dino", "dora", "vader"] as const) {
  test(`${method}: N steps straight equal N/2 steps, a resume, and N/2 more`, async () => {
    const run = (name: string) => join(dir, `${method}-${name}`);
    const straight = await pretrain(config(method, run("straight")));
    const halfway = await pretrain(config(method, run("resumed")), { stopAfterStep: 3 });
    assert.equal(halfway.steps, 3);
    const resumed = await pretrain(config(method, run("resumed")), { resume: true });
    assert.equal(resumed.steps, 6);
    const a = readSafetensors(straight.weights).tensors;
    const b = readSafetensors(resumed.weights).tensors;
    assert.ok(a.size > 100);
    for (const [name, tensor] of a) assert.deepEqual(b.get(name)!.toArray(), tensor.toArray(), name);
    // And the checkpoints hold the student, the teacher, the optimiser and the centre.
    const latest = readSafetensors(join(run("resumed"), "checkpoints", "step-00000006.safetensors")).tensors;
    const keys =
      method === "vader"
        ? ["teacher.backbone.bn1.running_mean", "state.vader_queue.embeddings", "state.vader_queue.pointer"]
        : ["student.backbone.cls_token", "teacher.head.last_layer.weight_v", "state.dino_loss.center"];
    for (const key of [...keys, "rng.cpu"]) {
      assert.ok(latest.has(key), key);
    }
    const moment = method === "vader" ? ".momentum_buffer" : ".exp_avg_sq";
    assert.ok([...latest.keys()].some((key) => key.startsWith("optimizer.") && key.endsWith(moment)));
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

test("a loss that becomes NaN ends the run in one line; the checkpoint before it stays intact", async () => {
  const out = join(dir, "dino-diverged");
  const diverging = { ...config("dino", out), lr: 1e30, checkpointEvery: 1 };
  await assert.rejects(pretrain(diverging), (error: Error) => {
    assert.equal(error.name, "TrainingError");
    assert.match(error.message, /^the loss became NaN at step \d+; lower --lr/);
    return true;
  });
  const saved = readdirSync(join(out, "checkpoints")).sort();
  assert.ok(saved.length >= 1, "the steps before the NaN were saved");
  const last = readSafetensors(join(out, "checkpoints", saved.at(-1)!)).tensors;
  for (const [name, tensor] of last) {
    if (tensor.dtype === "float32") assert.ok(tensor.isfinite().all().item(), `${name} is finite`);
  }
});
