// Segmentation scores on a hand-worked confusion matrix, and the dense probe on patch
// features that carry their class.
import assert from "node:assert/strict";
import { test } from "node:test";
import { trainDenseProbe } from "../../src/eval/dense_probe.ts";
import { ConfusionMatrix } from "../../src/eval/segmentation_metrics.ts";
import { manualSeed, randn, tensor } from "../../src/torch/index.ts";

test("IoU, mean IoU and pixel accuracy of a hand-worked case", () => {
  const confusion = new ConfusionMatrix(4);
  // truth:     0 0 0 1 1 2 255 ; predicted: 0 0 1 1 2 2 3 (the 255 pixel is ignored)
  confusion.add([0, 0, 0, 1, 1, 2, 255], [0, 0, 1, 1, 2, 2, 3]);
  // class 0: hit 2, truth 3, predicted 2 -> 2/3; class 1: hit 1, truth 2, predicted 2 -> 1/3;
  // class 2: hit 1, truth 1, predicted 2 -> 1/2; class 3 never occurs -> left out of the mean.
  const iou = confusion.intersectionOverUnion();
  assert.ok(Math.abs(iou[0] - 2 / 3) < 1e-12 && Math.abs(iou[1] - 1 / 3) < 1e-12 && iou[2] === 0.5);
  assert.ok(Number.isNaN(iou[3]));
  assert.ok(Math.abs(confusion.meanIou() - (2 / 3 + 1 / 3 + 1 / 2) / 3) < 1e-12);
  assert.ok(Math.abs(confusion.pixelAccuracy() - 4 / 6) < 1e-12);
  assert.throws(() => confusion.add([0, 1], [0]), /a prediction has 1 pixels, its labels 2/);
  assert.throws(() => confusion.add([7], [0]), /label 7 is outside the 4 classes/);
});

test("the dense probe separates classes whose patch features differ", () => {
  manualSeed(0);
  // 12 images of 4x4 patches, each patch of class (row + col + image) % 3, its feature the
  // class's direction plus noise; labels at patch resolution so upsampling is the identity.
  const rows = 4;
  const cols = 4;
  const make = (count: number, offset: number) => {
    const labels: Uint8Array[] = [];
    const values = new Float32Array(count * rows * cols * 3);
    for (let n = 0; n < count; n++) {
      const map = new Uint8Array(rows * cols);
      for (let p = 0; p < rows * cols; p++) {
        const label = (Math.floor(p / cols) + (p % cols) + n + offset) % 3;
        map[p] = label;
        values[(n * rows * cols + p) * 3 + label] = 1;
      }
      labels.push(map);
    }
    const features = tensor(values, { shape: [count, rows, cols, 3] }).add(
      randn([count, rows, cols, 3]).mul(0.1),
    );
    return { features, labels, height: rows, width: cols };
  };
  const result = trainDenseProbe(make(12, 0), make(6, 1), {
    classes: 3,
    epochs: 60,
    batchSize: 4,
    lr: 0.05,
    seed: 1,
  });
  assert.equal(result.meanIou, 1);
  assert.equal(result.pixelAccuracy, 1);
  assert.ok(
    result.losses.at(-1)! < result.losses[0] / 4,
    `losses ${result.losses[0]} -> ${result.losses.at(-1)}`,
  );
  const mismatched = { ...make(2, 0), labels: [new Uint8Array(16)] };
  assert.throws(
    () => trainDenseProbe(mismatched, make(2, 0), { classes: 3, epochs: 1, batchSize: 1, lr: 0.1, seed: 0 }),
    /1 label maps for features of shape \[2,4,4,3\]/,
  );
});

test("the dense probe standardises features, so their scale does not decide what it learns", () => {
  manualSeed(0);
  // Two classes in two halves of each image, their features 1e-3 apart: unit-norm embeddings of
  // many channels are this small per channel. Unstandardised, the probe's logits would stay near
  // zero for its whole budget and it would predict one class.
  const make = (count: number) => {
    const labels: Uint8Array[] = [];
    const values = new Float32Array(count * 16 * 2);
    for (let n = 0; n < count; n++) {
      const map = new Uint8Array(16);
      for (let p = 0; p < 16; p++) {
        map[p] = p < 8 ? 0 : 1;
        values[(n * 16 + p) * 2 + map[p]] = 1e-3;
      }
      labels.push(map);
    }
    return { features: tensor(values, { shape: [count, 4, 4, 2] }), labels, height: 4, width: 4 };
  };
  const result = trainDenseProbe(make(8), make(4), {
    classes: 2,
    epochs: 20,
    batchSize: 4,
    lr: 0.05,
    seed: 0,
  });
  assert.equal(result.meanIou, 1);
});
