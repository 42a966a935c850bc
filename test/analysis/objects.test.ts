// Objects per frame: the merging rule on hand-made masks, and counts from a random
// demo-size ViT (whole numbers between 1 and its number of heads).
import assert from "node:assert/strict";
import { test } from "node:test";
import { distinctObjectCount, intersectionOverUnion } from "../../src/analysis/distinct_objects.ts";
import { encoderObjectCounter } from "../../src/analysis/object_count.ts";
import { createVit } from "../../src/models/vit.ts";
import { manualSeed } from "../../src/torch/index.ts";

/** A mask of `length` cells with the cells from..to-1 set. */
const span = (from: number, to: number, length = 20) =>
  Array.from({ length }, (_, i) => (i >= from && i < to ? 1 : 0));

test("masks overlapping by IoU above one half are one object, also through a chain", () => {
  assert.equal(intersectionOverUnion(span(0, 10), span(2, 12)), 8 / 12);
  // Two that overlap (8/12) and one apart: two objects.
  assert.equal(distinctObjectCount([span(0, 10), span(2, 12), span(14, 20)]), 2);
  // A ~ B and B ~ C (IoU 0.6 each) while A and C overlap by 1/3: still one object.
  const [a, b, c] = [span(0, 8), span(2, 10), span(4, 12)];
  assert.ok(intersectionOverUnion(a, c) <= 0.5 && intersectionOverUnion(a, b) > 0.5);
  assert.equal(distinctObjectCount([a, b, c]), 1);
  assert.equal(distinctObjectCount([a, c]), 2);
  // Exactly one half is not enough.
  assert.equal(intersectionOverUnion(span(0, 6), span(2, 8)), 0.5);
  assert.equal(distinctObjectCount([span(0, 6), span(2, 8)]), 2);
  // The same mask from every head is one object; empty masks are none.
  assert.equal(distinctObjectCount([span(3, 9), span(3, 9), span(3, 9)]), 1);
  assert.equal(distinctObjectCount([span(0, 0), span(5, 9), span(0, 0)]), 1);
  assert.equal(distinctObjectCount([span(0, 0)]), 0);
});

test("a random ViT counts between 1 and its heads objects in every frame", () => {
  manualSeed(3);
  const backbone = createVit("vit_tiny", { patchSize: 8, imageSize: 32 });
  backbone.eval();
  const encoder = {
    backbone,
    architecture: "vit_tiny" as const,
    patchSize: 8,
    device: "cpu" as const,
    source: "random",
  };
  const counter = encoderObjectCounter(encoder, 32);
  const [width, height] = [60, 44];
  // Frames of noise, and one half black, half white.
  const frames = Array.from({ length: 5 }, (_, f) =>
    Uint8Array.from({ length: width * height * 3 }, (_, i) =>
      f === 4 ? (Math.floor(i / 3) % width < width / 2 ? 0 : 255) : (i * 7919 + f * 104729) % 256,
    ),
  );
  const counts = counter.count(frames, width, height);
  assert.equal(counts.length, frames.length);
  for (const count of counts)
    assert.ok(Number.isInteger(count) && count >= 1 && count <= 3, `count ${count}`);
});
