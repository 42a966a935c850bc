// DoRA's discovery and tracking on constructed features: objects whose patch keys keep their
// direction while they move are followed by their masks.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  discoverObjects,
  masksToPixels,
  thresholdAtMean,
  trackObjects,
} from "../../src/discovery/object_tracking.ts";
import { manualSeed, randn, tensor, zeros } from "../../src/torch/index.ts";

const rows = 8;
const cols = 8;
const patches = rows * cols;
const dim = 32;
const frames = 5;

/** Patch indices of a 2x2 object whose top-left corner is at (row, col). */
function square(row: number, col: number): number[] {
  return [row * cols + col, row * cols + col + 1, (row + 1) * cols + col, (row + 1) * cols + col + 1];
}

function iou(mask: number[], truth: number[]): number {
  const predicted = new Set(mask.flatMap((value, index) => (value > 0 ? [index] : [])));
  const actual = new Set(truth);
  const hit = [...predicted].filter((index) => actual.has(index)).length;
  return hit / (predicted.size + actual.size - hit);
}

test("each discovered object's mask follows its object across frames", () => {
  manualSeed(0);
  // Two objects moving right one patch per frame (the second also down, then not); each object's
  // patches carry its own direction (scaled up: a confident key), the background noise.
  const paths = [(t: number) => square(1, 1 + t), (t: number) => square(4 + Math.min(t, 2), t)];
  const directions = [
    Float32Array.from({ length: dim }, (_, i) => (i < dim / 2 ? 1 : 0)),
    Float32Array.from({ length: dim }, (_, i) => (i >= dim / 2 ? 1 : 0)),
  ];
  const keyValues = randn([frames, patches, dim]).mul(0.3).toArray();
  for (let t = 0; t < frames; t++) {
    paths.forEach((path, object) => {
      const direction = directions[object];
      for (const patch of path(t)) {
        for (let d = 0; d < dim; d++) keyValues[(t * patches + patch) * dim + d] = 3 * direction[d];
      }
    });
  }
  const keys = tensor(Float32Array.from(keyValues), { shape: [1, frames, patches, dim] });
  // First frame: each head's [CLS] attention lies on one object; queries and features are
  // the first frame's keys (their directions are what matter).
  const attention = zeros([1, 2, patches]);
  const attentionValues = attention.toArray();
  paths.forEach((path, object) => {
    for (const patch of path(0)) attentionValues[object * patches + patch] = 0.25;
  });
  const clsAttention = tensor(Float32Array.from(attentionValues), { shape: [1, 2, patches] });
  const firstFrame = keys.select(1, 0);
  const prototypes = discoverObjects(clsAttention, firstFrame, firstFrame);
  assert.deepEqual(prototypes.shape, [1, 2, dim]);
  const maps = trackObjects(prototypes, keys);
  assert.deepEqual(maps.shape, [1, frames, 2, patches]);
  const masks = thresholdAtMean(maps).toArray();
  for (let t = 0; t < frames; t++) {
    paths.forEach((path, object) => {
      const mask = masks.slice((t * 2 + object) * patches, (t * 2 + object + 1) * patches);
      const overlap = iou(mask, path(t));
      assert.ok(
        overlap > 0.9,
        `frame ${t}, object ${object}: IoU ${overlap}, mask ${mask.flatMap((v, i) => (v > 0 ? [i] : []))} truth ${path(t)}`,
      );
    });
  }
});

test("patch masks become pixel masks by nearest upsampling", () => {
  const masks = tensor(new Float32Array([1, 0, 0, 1]), { shape: [1, 4] });
  const pixels = masksToPixels(masks, 2, 2, 2);
  assert.deepEqual(pixels.shape, [1, 4, 4]);
  assert.deepEqual(pixels.toArray(), [1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1]);
});
