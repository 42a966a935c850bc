// Autograd through the generic operator call agrees with finite differences.
import assert from "node:assert/strict";
import { test } from "node:test";
import { gradcheck } from "../helpers/gradcheck.ts";
import { einsum, F, tensor, type Tensor } from "../../src/torch/index.ts";

const index = tensor(
  [
    [0, 2, 1],
    [1, 1, 0],
  ],
  { dtype: "int64" },
);
const labels = tensor([2, 0, 1], { dtype: "int64" });

const cases: [string, (...inputs: Tensor[]) => Tensor, number[][]][] = [
  [
    "matmul",
    (a, b) => a.matmul(b),
    [
      [3, 4],
      [4, 2],
    ],
  ],
  ["softmax", (a) => a.softmax(1), [[3, 5]]],
  ["layerNorm", (x, w, b) => F.layerNorm(x, [4], w, b), [[3, 4], [4], [4]]],
  ["conv2d", (x, w, b) => F.conv2d(x, w, b, { stride: 1, padding: 1 }), [[1, 2, 4, 4], [3, 2, 3, 3], [3]]],
  ["interpolate bilinear", (x) => F.interpolate(x, { size: [5, 3], mode: "bilinear" }), [[1, 2, 3, 4]]],
  ["crossEntropy", (logits) => F.crossEntropy(logits, labels), [[3, 4]]],
  [
    "einsum",
    (a, b) => einsum("ij,jk->ik", a, b),
    [
      [2, 3],
      [3, 2],
    ],
  ],
  ["gather", (a) => a.gather(1, index), [[2, 3]]],
  ["logsumexp", (a) => a.logsumexp(1), [[3, 4]]],
  [
    "gridSample",
    (x, g) => F.gridSample(x, g.tanh(), { alignCorners: false }),
    [
      [1, 2, 4, 4],
      [1, 3, 3, 2],
    ],
  ],
  ["maxPool2d", (x) => F.maxPool2d(x, 2), [[1, 1, 4, 4]]],
  [
    "batchNorm (training)",
    (x, w, b) => F.batchNorm(x, null, null, { weight: w, bias: b, training: true }),
    [[4, 3, 2, 2], [3], [3]],
  ],
  [
    "attention",
    (q, k, v) => F.scaledDotProductAttention(q, k, v),
    [
      [1, 3, 4],
      [1, 5, 4],
      [1, 5, 2],
    ],
  ],
];

for (const [name, fn, shapes] of cases) {
  test(`${name}: autograd gradient equals finite differences`, () => {
    const error = gradcheck(fn, shapes);
    assert.ok(error < 1e-6, `relative error ${error}`);
  });
}
