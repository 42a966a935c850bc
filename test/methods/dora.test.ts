// DoRA's step: heads drawn without repeats, masks from the teacher's discovery, a finite
// loss whose gradient reaches the student, and its configuration errors.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Random } from "../../src/util/random.ts";
import { chooseHeads, type DoraConfig, doraConfigSchema, DoraMethod } from "../../src/methods/dora.ts";
import { resolveConfig } from "../../src/pretrain/pretrain.ts";
import { cat, manualSeed, rand } from "../../src/torch/index.ts";
import { maxAbsDiff } from "../helpers/python.ts";
import { readStepResult } from "../../src/train/method.ts";

test("k distinct heads, drawn afresh each step, reproducibly", () => {
  const random = new Random(5);
  const draws = Array.from({ length: 50 }, () => chooseHeads(6, 3, random));
  for (const heads of draws) {
    assert.equal(new Set(heads).size, 3);
    assert.ok(heads.every((head) => head >= 0 && head < 6));
  }
  assert.ok(new Set(draws.map((heads) => heads.join())).size > 10, "the choice varies");
  const again = new Random(5);
  assert.deepEqual(chooseHeads(6, 3, again), draws[0]);
  assert.deepEqual(chooseHeads(3, 3, new Random(1)).sort(), [0, 1, 2]);
});

const tiny = {
  video: "clip.mp4",
  arch: "vit_tiny",
  patchSize: 8,
  imageSize: 32,
  localCrops: 2,
  localCropSize: 16,
  outDim: 64,
  headHiddenDim: 32,
  bottleneckDim: 16,
  clipLength: 3,
  objects: 2,
};

test("a step discovers masks for every frame and object and trains the student", () => {
  manualSeed(0);
  const method = new DoraMethod(doraConfigSchema.parse(tiny));
  const clips = rand([2 * 3, 3, 40, 48]); // two clips of three frames
  const result = method.step(clips, { random: new Random(1), epoch: 0 });
  const { loss, metrics } = readStepResult(result);
  assert.ok(Number.isFinite(loss));
  const { heads, masks } = method.lastDiscovery!;
  assert.equal(heads.length, 2);
  assert.deepEqual(masks.shape, [2, 3, 2, 32, 32]);
  const values = new Set(masks.toArray());
  assert.ok([...values].every((value) => value === 0 || value === 1));
  // Thresholding at the mean keeps some patches and drops others in every map.
  assert.ok(metrics.mask_area > 0 && metrics.mask_area < 1, `mask area ${metrics.mask_area}`);
  result.loss.backward();
  const grads = method.student.parameters().filter((parameter) => parameter.grad !== null);
  assert.ok(grads.length > 0, "the student gets gradients");
  assert.ok(
    method.teacher.parameters().every((parameter) => parameter.grad === null),
    "not the teacher",
  );
});

test("configuration errors name the option", () => {
  const issue = (overrides: Record<string, unknown>) => {
    const result = doraConfigSchema.safeParse({ ...tiny, ...overrides });
    assert.ok(!result.success);
    return `${result.error.issues[0].path.join(".")}: ${result.error.issues[0].message}`;
  };
  assert.match(issue({ objects: 4 }), /objects: 4 objects need as many heads, and vit_tiny has 3/);
  assert.match(issue({ attentionBlock: 12 }), /attentionBlock: vit_tiny has 12 blocks/);
  assert.match(issue({ video: undefined, dataset: "fashion-mnist" }), /DoRA learns from a video's clips/);
  assert.match(issue({ maskedViewSize: 20 }), /maskedViewSize: 20 is not a multiple of the patch size 8/);
  assert.match(issue({ imageSize: 30 }), /imageSize: 30 is not a multiple/);
});

test("DoRA's defaults are the official command's, and --preset paper spells them out", () => {
  const defaults = resolveConfig({ method: "dora", video: "clip.mp4" }) as DoraConfig;
  const paper = resolveConfig({ method: "dora", video: "clip.mp4", preset: "paper" }) as DoraConfig;
  assert.deepEqual(paper, defaults);
  assert.deepEqual(
    [
      defaults.clipLength,
      defaults.frameStride,
      defaults.clipSpacing,
      defaults.batchSize,
      defaults.localCrops,
    ],
    [8, 60, 1, 16, 6],
  );
  assert.equal(defaults.blurProbability, 0.1);
  assert.equal(defaults.studentView, "same");
  assert.equal(defaults.maskThreshold, "batch");
  assert.equal(defaults.officialLossQuirks, true);
  assert.throws(
    () => resolveConfig({ method: "dino", preset: "paper" }),
    /--preset paper is not one onevideo has; use demo/,
  );
});

test("clip views: the crops and flip shared by a clip's frames, the teacher's view reused by the student, locals per frame", () => {
  // Without photometric distortions, identical frames show exactly what geometry they share.
  const plain = {
    colorJitterProbability: 0,
    grayscaleProbability: 0,
    blurProbability: 0,
    localBlurProbability: 0,
  };
  manualSeed(0);
  const method = new DoraMethod(
    doraConfigSchema.parse({ ...tiny, ...plain, clipCropSize: 40, flipProbability: 0.5 }),
  );
  const picture = rand([1, 3, 48, 56]);
  const clip = cat([picture, picture, picture]);
  const views = method.clipViews(clip, new Random(2));
  assert.deepEqual(views.teacherView.shape, [3, 3, 32, 32]);
  for (const t of [1, 2]) {
    assert.equal(
      maxAbsDiff(views.teacherView.narrow(0, t, 1), views.teacherView.narrow(0, 0, 1)),
      0,
      `frame ${t}`,
    );
  }
  assert.equal(maxAbsDiff(views.studentView, views.teacherView), 0, "the student's view is the teacher's");
  assert.deepEqual(views.locals[0].shape, [3, 3, 16, 16]);
  const local = views.locals[0];
  assert.ok(
    maxAbsDiff(local.narrow(0, 1, 1), local.narrow(0, 0, 1)) > 1e-3,
    "each frame's local crop is its own",
  );
  const second = new DoraMethod(doraConfigSchema.parse({ ...tiny, clipCropSize: 40, studentView: "second" }));
  const other = second.clipViews(clip, new Random(2));
  assert.ok(maxAbsDiff(other.studentView, other.teacherView) > 1e-3, "the paper's variant distorts again");
});
