// VADeR's loss and dictionary: InfoNCE against a hand-computed case and finite differences,
// the queue's first-in first-out order, and the momentum encoder's update.
import assert from "node:assert/strict";
import { test } from "node:test";
import { pixelInfoNce } from "../../src/methods/pixel_contrast.ts";
import { PixelQueue } from "../../src/methods/pixel_queue.ts";
import { F, tensor } from "../../src/torch/index.ts";
import { gradcheck } from "../helpers/gradcheck.ts";

test("pixel InfoNCE equals the hand-computed cross-entropy with the positive first", () => {
  const queries = tensor([
    [1, 0],
    [0, 1],
  ]);
  const keys = tensor([
    [0.6, 0.8],
    [0, 1],
  ]);
  const negatives = tensor([
    [0, 1],
    [-1, 0],
    [0.8, -0.6],
  ]);
  const temperature = 0.5;
  // Row 1: logits (0.6, 0, -1, 0.8) / 0.5; row 2: (1, 1, 0, -0.6) / 0.5.
  const nll = (logits: number[]) =>
    -logits[0] / temperature + Math.log(logits.reduce((sum, l) => sum + Math.exp(l / temperature), 0));
  const expected = (nll([0.6, 0, -1, 0.8]) + nll([1, 1, 0, -0.6])) / 2;
  const { loss, accuracy } = pixelInfoNce(queries, keys, negatives, temperature);
  assert.ok(Math.abs(loss.item() - expected) < 1e-6, `${loss.item()} vs ${expected}`);
  // Row 1's best is the negative (0.8 > 0.6); row 2's positive ties a negative and argmax keeps the first.
  assert.equal(accuracy.item(), 0.5);
});

test("pixel InfoNCE's gradient matches finite differences through the normalisation", () => {
  const worst = gradcheck(
    (q, k, n) => pixelInfoNce(F.normalize(q, 2, 1), F.normalize(k, 2, 1), F.normalize(n, 2, 1), 0.07).loss,
    [
      [5, 4],
      [5, 4],
      [7, 4],
    ],
  );
  assert.ok(worst < 1e-5, `worst relative error ${worst}`);
});

test("the queue is first-in first-out and wraps around", () => {
  const queue = new PixelQueue(5, 2);
  const rows = (start: number, count: number) =>
    tensor(Array.from({ length: count }, (_, i) => [start + i, -(start + i)]));
  queue.enqueue(rows(1, 3));
  assert.equal(Number(queue.pointer.item()), 3);
  queue.enqueue(rows(4, 3)); // 4 and 5 fill the end, 6 overwrites 1, the oldest
  assert.equal(Number(queue.pointer.item()), 1);
  assert.deepEqual(queue.embeddings.toArray(), [6, -6, 2, -2, 3, -3, 4, -4, 5, -5]);
  queue.enqueue(rows(7, 5)); // a whole queue's worth replaces everything, oldest first
  assert.deepEqual(queue.embeddings.toArray(), [11, -11, 7, -7, 8, -8, 9, -9, 10, -10]);
  assert.throws(() => queue.enqueue(rows(0, 6)), /exceed the queue length/);
});

test("the queue starts as unit vectors", () => {
  const queue = new PixelQueue(64, 8);
  const norms = queue.embeddings.norm(2, 1).toArray();
  for (const norm of norms) assert.ok(Math.abs(norm - 1) < 1e-5);
});
