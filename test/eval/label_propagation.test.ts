// Label propagation: a hand-worked case, agreement with a direct python3-torch version of
// DINO's procedure, and a static sequence through the whole DAVIS pipeline (J&F = 1).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { scoreDavis } from "../../src/eval/davis_score.ts";
import { vitDenseFeatures } from "../../src/eval/dense_features.ts";
import { dinoPropagation, neighborhoodMask, propagateLabels } from "../../src/eval/label_propagation.ts";
import { evaluationSize, oneHot, resizeMask, segmentSequence } from "../../src/eval/video_segmentation.ts";
import type { VisionTransformer } from "../../src/models/vit.ts";
import { eye, F, randn, tensor, zeros } from "../../src/torch/index.ts";
import { maxAbsDiff, referencePython, runTorch } from "../helpers/python.ts";
import { scratchDir } from "../helpers/videos.ts";
import { readIndexMask } from "../../src/data/davis.ts";
import { paint, writeStaticDavis } from "../helpers/davis_fixture.ts";

test("neighbourhood mask keeps sources within the radius on both axes", () => {
  const mask = neighborhoodMask(3, 3, 1).toArray();
  const column = (target: number) => [0, 1, 2, 3, 4, 5, 6, 7, 8].map((source) => mask[source * 9 + target]);
  // Target 0 (row 0, col 0) sees sources 0, 1, 3, 4; target 4 (the centre) sees all nine.
  assert.deepEqual(column(0), [1, 1, 0, 1, 1, 0, 0, 0, 0]);
  assert.deepEqual(column(4), [1, 1, 1, 1, 1, 1, 1, 1, 1]);
});

test("each target patch takes the affinity-weighted labels of its top-k sources", () => {
  // Two context patches with unit features at 0 and 90 degrees, one target at 0 degrees.
  // Affinities exp(1/0.1) and exp(0) = e^10 and 1; with top-k 2 the label mix is
  // e^10/(e^10+1) of the first source's label, with top-k 1 it is all of it.
  const features = tensor([
    [1, 0],
    [0, 1],
  ]);
  const labels = tensor([
    [1, 0],
    [0, 1],
  ]); // [C, hw]: source 0 is class 0, source 1 class 1
  const target = tensor([[1, 0]]);
  const options = { ...dinoPropagation, topK: 2 };
  const mixed = propagateLabels(target, [{ features, labels }], options, null).toArray(); // [C=2, 1]
  const share = Math.exp(10) / (Math.exp(10) + 1);
  assert.ok(Math.abs(mixed[0] - share) < 1e-6 && Math.abs(mixed[1] - (1 - share)) < 1e-6);
  const top1 = propagateLabels(target, [{ features, labels }], { ...options, topK: 1 }, null);
  assert.deepEqual(top1.toArray(), [1, 0]);
});

test("propagateLabels equals DINO's procedure written directly in python3-torch", () => {
  const rows = 5;
  const cols = 6;
  const hw = rows * cols;
  const context = [0, 1, 2].map(() => ({
    features: F.normalize(randn([hw, 16]), 2, 1),
    labels: randn([3, hw]).softmax(0),
  }));
  const target = F.normalize(randn([hw, 16]), 2, 1);
  const options = { ...dinoPropagation, neighborhood: 2 };
  const ours = propagateLabels(target, context, options, neighborhoodMask(rows, cols, 2));
  const inputs = new Map([["target", target]]);
  context.forEach(({ features, labels }, i) => {
    inputs.set(`features${i}`, features.t().contiguous()); // DINO keeps dim x h*w
    inputs.set(`labels${i}`, labels.view(1, 3, rows, cols));
  });
  const reference = runTorch(
    `
h, w, n = ${rows}, ${cols}, 3
feat_tar = inputs["target"]
feat_sources = torch.stack([inputs[f"features{i}"] for i in range(n)])
aff = torch.exp(torch.bmm(feat_tar.unsqueeze(0).repeat(n, 1, 1), feat_sources) / 0.1)
mask = torch.zeros(h, w, h, w)
for i in range(h):
    for j in range(w):
        mask[i, j, max(0, i - 2):min(h, i + 3), max(0, j - 2):min(w, j + 3)] = 1
aff = aff * mask.reshape(h * w, h * w).unsqueeze(0)
aff = aff.transpose(2, 1).reshape(-1, h * w)
tk_val, _ = torch.topk(aff, dim=0, k=5)
tk_val_min, _ = torch.min(tk_val, dim=0)
aff[aff < tk_val_min] = 0
aff = aff / torch.sum(aff, keepdim=True, axis=0)
segs = torch.cat([inputs[f"labels{i}"] for i in range(n)])
segs = segs.reshape(n, 3, -1).transpose(2, 1).reshape(-1, 3).T
outputs["labels"] = torch.mm(segs, aff)
`,
    inputs,
  );
  assert.ok(maxAbsDiff(ours, reference.get("labels")!) < 1e-5);
});

test("DINO's evaluation size: short side fixed, long side down to a multiple of 64", () => {
  assert.deepEqual(evaluationSize(854, 480, 480, 16), { width: 832, height: 480 });
  assert.deepEqual(evaluationSize(480, 854, 480, 8), { width: 480, height: 832 });
  assert.deepEqual(evaluationSize(40, 32, 32, 8), { width: 40, height: 32 });
});

test("nearest resize of an id mask samples pixel centres", () => {
  const mask = paint(4, 2, [1, 0, 0, 1, 1], [2, 2, 0, 3, 1]);
  assert.deepEqual([...resizeMask(mask, 2, 1).data], [1, 2]);
  assert.deepEqual([...resizeMask(resizeMask(mask, 8, 4), 4, 2).data], [...mask.data]);
});

test("the id-mask resize is PIL's NEAREST to the pixel, ties included, shrinking and enlarging", () => {
  const sizes: [number, number, number, number][] = [
    [854, 480, 104, 60], // DAVIS 480p to ViT-S/8's grid at 480
    [8, 6, 6, 4], // exact centres: PIL's walk rounds some down
    [12, 9, 8, 7],
    [2, 3, 5, 7], // enlarging
    [97, 61, 13, 11],
  ];
  for (const [width, height, outWidth, outHeight] of sizes) {
    // Each pixel holds its column (row in the second mask), so the result tells its sources.
    const columns = {
      width,
      height,
      data: Uint8Array.from({ length: width * height }, (_, i) => (i % width) % 256),
    };
    const rows = {
      width,
      height,
      data: Uint8Array.from({ length: width * height }, (_, i) => Math.floor(i / width) % 256),
    };
    for (const mask of [columns, rows]) {
      const ours = resizeMask(mask, outWidth, outHeight);
      const theirs = execFileSync(
        referencePython,
        [
          "-c",
          `import sys, numpy as np
from PIL import Image
a = np.frombuffer(sys.stdin.buffer.read(), dtype=np.uint8).reshape(${height}, ${width})
sys.stdout.buffer.write(np.asarray(Image.fromarray(a, mode="L").resize((${outWidth}, ${outHeight}), 0)).tobytes())`,
        ],
        { input: Buffer.from(mask.data) },
      );
      assert.deepEqual([...ours.data], [...theirs], `${width}x${height} -> ${outWidth}x${outHeight}`);
    }
  }
});

test("void (255) in the first frame is a class of its own, as DINO's one-hot makes it", () => {
  const labels = oneHot(paint(4, 2, [1, 0, 0, 0, 1], [255, 3, 0, 3, 1]));
  assert.deepEqual(labels.shape, [256, 8]);
  const values = labels.toArray();
  assert.equal(values[255 * 8 + 3], 1, "pixel 3 is void");
  assert.equal(values[0 * 8 + 3], 0, "not background");
  assert.equal(values[1 * 8 + 0], 1);
  assert.deepEqual(oneHot(paint(2, 1, [2, 1, 0, 1, 0])).shape, [3, 2], "ids 0 .. largest");
});

/**
 * Features that identify each patch position of a 64x48 frame, whatever the frame shows: the
 * best possible encoder for a sequence that never moves.
 */
function positionEncoder() {
  const grid = 8 * 6;
  const backbone = {
    config: { imageSize: 48 },
    forward: () => ({ cls: zeros([1, grid]), patchTokens: eye(grid).unsqueeze(0) }),
  } as unknown as VisionTransformer;
  return vitDenseFeatures({
    backbone,
    architecture: "vit_tiny",
    patchSize: 8,
    device: "cpu",
    source: "grid",
  });
}

test("a static sequence propagates its first mask unchanged: J = F = 1", () => {
  const dir = scratchDir();
  const root = writeStaticDavis(dir);
  const encoder = positionEncoder();
  const out = join(dir, "pred");
  segmentSequence(encoder, root, "still", join(out, "still"), { ...dinoPropagation, shortSide: 48 });
  const score = scoreDavis(out, root);
  assert.equal(score.J, 1);
  assert.equal(score.F, 1);
  assert.equal(score.JF, 1);
});

test("void pixels of the first frame propagate as void (255), as DINO's script carries them", () => {
  const dir = scratchDir();
  const root = writeStaticDavis(dir, paint(64, 48, [1, 0, 8, 63, 23], [255, 0, 40, 63, 47]));
  const encoder = positionEncoder();
  const out = join(dir, "pred", "still");
  segmentSequence(encoder, root, "still", out, { ...dinoPropagation, shortSide: 48 });
  const predicted = readIndexMask(join(out, "00002.png"));
  assert.equal(predicted.data[44 * 64 + 10], 255, "the void rows stay void");
  assert.equal(predicted.data[12 * 64 + 10], 1);
  assert.equal(predicted.data[30 * 64 + 10], 0);
});
