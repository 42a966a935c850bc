// VADeR's method: config rules, one step (pairs, queue, the momentum encoder's statistics),
// frame pairs from clips, the momentum update, and the dense weights a run exports.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { pretrain, resolveConfig } from "../../src/pretrain/pretrain.ts";
import { Random } from "../../src/util/random.ts";
import { loadDenseFeatures } from "../../src/eval/dense_features.ts";
import { updateTeacher } from "../../src/train/ema.ts";
import { type VaderConfig, VaderMethod } from "../../src/methods/vader.ts";
import { cat, manualSeed, noGrad, rand, readSafetensors, scope, type Tensor } from "../../src/torch/index.ts";
import type { DataParallel } from "../../src/train/data_parallel.ts";
import { readStepResult } from "../../src/train/method.ts";
import { buildSchedules } from "../../src/train/schedules.ts";
import { scratchDir, syntheticVideo } from "../helpers/videos.ts";

const small = {
  method: "vader",
  arch: "resnet18",
  imageSize: 32,
  embeddingDim: 16,
  decoderWidth: 32,
  queueLength: 64,
  pairsPerImage: 8,
  batchSize: 2,
};
const vader = (options: Record<string, unknown> = {}) =>
  resolveConfig({ ...small, ...options }) as VaderConfig;

test("VADeR's config: MoCo's defaults, and one clear line for impossible settings", () => {
  const config = resolveConfig({ method: "vader" }) as VaderConfig;
  assert.equal(config.arch, "resnet50");
  assert.equal(config.embeddingDim, 128);
  assert.equal(config.pairsPerImage, 32);
  assert.equal(config.temperature, 0.07);
  assert.equal(config.optimizer, "sgd");
  assert.equal(config.teacherMomentum, 0.999);
  assert.equal(config.teacherMomentumEnd, 0.999);
  assert.throws(() => vader({ imageSize: 48 }), /--image-size.*multiple of 32/);
  assert.throws(() => vader({ video: "v.mp4", frameGap: 8, clipLength: 8 }), /--frame-gap.*--clip-length/);
  assert.throws(() => vader({ frameGap: 2 }), /--frame-gap.*--video/);
  assert.throws(() => vader({ arch: "resnet99" }), /--arch/);
});

test("the momentum encoder moves by (1 - 0.999) towards the online one, at every step", () => {
  const schedules = buildSchedules(vader(), 10, 10);
  assert.deepEqual([...new Set(schedules.teacherMomentum)], [0.999]);
  manualSeed(1);
  const method = new VaderMethod(vader());
  const student = method.student.namedParameters();
  noGrad(() => {
    for (const [, parameter] of student) parameter.add_(1);
  });
  const before = new Map(method.teacher.namedParameters().map(([name, t]) => [name, t.clone()]));
  updateTeacher(method.teacher, method.student, 0.999);
  for (const [name, parameter] of method.teacher.namedParameters()) {
    const expected = before.get(name)!.mul(0.999).add(new Map(student).get(name)!, 0.001);
    assert.ok(parameter.sub(expected).abs().max().item() < 1e-6, name);
  }
});

test("a step: P pairs per image, their keys enter the queue, the momentum encoder normalises as the student", () => {
  manualSeed(2);
  const method = new VaderMethod(vader());
  const random = new Random(3);
  const images = rand([2, 3, 40, 48]);
  const { loss, metrics } = scope(() => {
    return readStepResult(method.step(images, { random, epoch: 0 }));
  });
  assert.ok(Number.isFinite(loss) && loss > 0);
  // Both views cover at least 20% of the frame, so most images have 8 matched pairs.
  assert.ok(metrics.matched_pairs > 0 && metrics.matched_pairs <= 8, `${metrics.matched_pairs}`);
  assert.equal(Number(method.queue.pointer.item()), metrics.matched_pairs * 2);
  const teacherBuffers = new Map(method.teacher.namedBuffers());
  for (const [name, buffer] of method.student.namedBuffers()) {
    if (name.endsWith("running_mean"))
      assert.deepEqual(teacherBuffers.get(name)!.toArray(), buffer.toArray(), name);
  }
  // The queued keys are unit vectors from the momentum encoder, not the random start.
  const queued = method.queue.embeddings.narrow(0, 0, 16);
  for (const norm of queued.norm(2, 1).toArray()) assert.ok(Math.abs(norm - 1) < 1e-4);
});

test("frame pairs: views A and B come from frames t and t + gap of each clip", () => {
  manualSeed(4);
  const method = new VaderMethod(vader({ video: "v.mp4", clipLength: 3, frameGap: 2 }));
  const clips = rand([2 * 3, 3, 32, 32]);
  const { metrics } = scope(() => readStepResult(method.step(clips, { random: new Random(5), epoch: 0 })));
  assert.equal(Number(method.queue.pointer.item()), metrics.matched_pairs * 2);
});

test("data parallel: every rank's keys enter the queue, in rank order", () => {
  manualSeed(4);
  const method = new VaderMethod(vader());
  // A stand-in for 2 ranks: this rank's keys, then the other's (their negation).
  const gathered: Tensor[] = [];
  const parallel = {
    gatherRows: (rows: Tensor) => {
      gathered.push(rows);
      return cat([rows, rows.neg()]);
    },
  } as unknown as DataParallel;
  const { metrics } = readStepResult(
    method.step(rand([2, 3, 40, 48]), { random: new Random(6), epoch: 0, parallel }),
  );
  const own = metrics.matched_pairs * 2;
  assert.equal(gathered[0].size(0), own);
  assert.equal(Number(method.queue.pointer.item()), 2 * own);
  const queued = method.queue.embeddings.narrow(0, 0, 2 * own);
  assert.deepEqual(queued.toArray(), cat([gathered[0], gathered[0].neg()]).toArray());
});

test("a VADeR run exports the dense encoder, and the evaluations load it from the folder or the file", async () => {
  const dir = scratchDir();
  const video = syntheticVideo(join(dir, "pattern.mp4"), 24, "64x48");
  const config = vader({
    video,
    out: join(dir, "run"),
    cacheDir: join(dir, "cache"),
    steps: 2,
    clipLength: 2,
    clipSpacing: 2,
    device: "cpu",
  });
  const { runDir, weights } = await pretrain(config);
  // weights.safetensors: the backbone alone, with torchvision's names.
  const backbone = readSafetensors(weights).tensors;
  assert.ok(backbone.has("layer4.1.bn2.running_var") && backbone.has("conv1.weight"));
  assert.ok(![...backbone.keys()].some((name) => name.startsWith("decoder.")));
  const images = rand([1, 3, 32, 48]);
  const fromFolder = loadDenseFeatures(runDir).cells(images);
  const fromFile = loadDenseFeatures(join(runDir, "dense.safetensors")).cells(images);
  assert.deepEqual(fromFolder.shape, [1, 8 * 12, 16]);
  assert.deepEqual(fromFile.toArray(), fromFolder.toArray());
  assert.equal(loadDenseFeatures(runDir).patchSize, 4);
});
