// DINO's linear probe: it separates hand-made features perfectly, its learning rate follows the
// per-epoch cosine, its loss falls, its features are the model's own, and the CLI end to end.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  defaultProbeLr,
  probeAccuracy,
  probeClassifier,
  probeLrSchedule,
  trainLinearProbe,
} from "../../src/eval/linear_probe.ts";
import { probeFeatureDim, probeFeatures } from "../../src/eval/probe_features.ts";
import { createVit } from "../../src/models/vit.ts";
import {
  cat,
  manualSeed,
  noGrad,
  rand,
  randn,
  scope,
  type Tensor,
  tensor,
  writeSafetensors,
} from "../../src/torch/index.ts";
import { resizedCrop, sampleCropBox } from "../../src/augment/crop.ts";
import { Random } from "../../src/util/random.ts";
import { scratchDir, syntheticImage } from "../helpers/videos.ts";

const cli = fileURLToPath(new URL("../../bin/onevideo.js", import.meta.url));
const dir = scratchDir();

function onevideo(...args: string[]) {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Three classes along the three axes: sample i of class c is (1 + i/10) e_c plus a little noise
 * in the other coordinates, so class c is exactly the samples whose largest coordinate is c.
 */
function axisSet(perClass: number, noise: number): { features: Tensor; labels: number[] } {
  const rows: number[][] = [];
  const labels: number[] = [];
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < perClass; i++) {
      const row = [0, 1, 2].map((axis) => (axis === c ? 1 + i / 10 : noise * Math.sin(7 * i + 3 * axis + c)));
      rows.push(row);
      labels.push(c);
    }
  }
  return { features: tensor(rows), labels };
}

test("separable features along three axes: the probe reaches 100% top-1, and top-5 is null", () => {
  manualSeed(0);
  const train = axisSet(10, 0.2);
  const testSet = axisSet(4, 0.3);
  // At DINO's default lr (0.001 * 30/256) and 0.01 initial weights the logits would move too
  // slowly for a few epochs; a larger lr on this tiny, well-conditioned problem converges fast.
  const probe = trainLinearProbe({
    trainFeatures: train.features,
    trainLabels: train.labels,
    classes: 3,
    epochs: 30,
    batchSize: 8,
    lr: 0.5,
  });
  assert.deepEqual(probeAccuracy(probe.classifier, testSet.features, testSet.labels), {
    top1: 100,
    top5: null,
  });
  // The classifier's weights point along the axes: row c is largest in coordinate c.
  const weight = probe.classifier.weight.toArray();
  for (let c = 0; c < 3; c++) {
    const row = weight.slice(3 * c, 3 * c + 3);
    assert.equal(row.indexOf(Math.max(...row)), c, `row ${c}: ${row}`);
  }
  train.features.dispose();
  testSet.features.dispose();
});

test("the learning rate is DINO's: 0.001 * batch / 256, cosine to 0 per epoch", () => {
  assert.equal(defaultProbeLr(256), 0.001);
  assert.equal(defaultProbeLr(1024), 0.004);
  const base = 0.02;
  const epochs = 8;
  const schedule = probeLrSchedule(base, epochs);
  assert.equal(schedule.length, epochs);
  schedule.forEach((lr, e) => {
    const closed = (base / 2) * (1 + Math.cos((Math.PI * e) / epochs));
    assert.ok(Math.abs(lr - closed) < 1e-15, `epoch ${e}: ${lr} vs ${closed}`);
  });
  assert.equal(schedule[0], base);
  assert.ok(Math.abs(schedule[epochs / 2] - base / 2) < 1e-15, "half way it is half");
});

test("the classifier starts as DINO's: weights normal(0, 0.01), bias 0", () => {
  manualSeed(1);
  const classifier = probeClassifier(200, 50);
  const weight = classifier.weight.toArray();
  const mean = weight.reduce((a, b) => a + b, 0) / weight.length;
  const std = Math.sqrt(weight.reduce((a, b) => a + (b - mean) ** 2, 0) / weight.length);
  assert.ok(Math.abs(mean) < 0.0005, `mean ${mean}`);
  assert.ok(Math.abs(std - 0.01) < 0.0005, `std ${std}`);
  assert.ok(classifier.bias!.toArray().every((b) => b === 0));
});

test("the training loss falls, and a provider gives each epoch its own features", () => {
  manualSeed(2);
  // Gaussian blobs: 4 classes in 16-d with noise enough that they overlap.
  const centres = randn([4, 16]);
  const labels = Array.from({ length: 200 }, (_, i) => i % 4);
  const blobs = scope(() =>
    centres.indexSelect(0, tensor(labels, { dtype: "int64" })).add(randn([200, 16]).mul(0.8)),
  );
  const common = { trainLabels: labels, classes: 4, epochs: 12, batchSize: 32, lr: 0.1, seed: 3 };
  const { losses } = trainLinearProbe({ ...common, trainFeatures: blobs });
  // From ln 4 = 1.386 (near-zero initial weights), falling every epoch.
  assert.ok(losses[0] < Math.log(4), `first ${losses[0]}`);
  for (let e = 1; e < 12; e++)
    assert.ok(losses[e] < losses[e - 1], `losses ${losses.map((l) => l.toFixed(3))}`);
  assert.ok(losses[11] < 0.6 * losses[0], `losses ${losses.map((l) => l.toFixed(3))}`);

  // A fresh view each epoch, as DINO's protocol gives; the probe disposes each after its epoch.
  const views: Tensor[] = [];
  const fresh = trainLinearProbe({
    ...common,
    trainFeatures: (epoch) => {
      assert.equal(epoch, views.length);
      views.push(scope(() => blobs.add(randn([200, 16]).mul(0.1))));
      return views[epoch];
    },
  });
  assert.equal(views.length, 12);
  assert.ok(views.every((view) => view.isDisposed));
  assert.ok(fresh.losses[11] < 0.6 * fresh.losses[0]);
  assert.ok(!blobs.isDisposed, "cached features stay the caller's");
  blobs.dispose();
  centres.dispose();
});

test("features of the last n blocks: n*D wide (+D with avgpool), the model's own outputs", () => {
  manualSeed(4);
  const vit = createVit("vit_tiny", { patchSize: 8, imageSize: 32, depth: 3 });
  vit.eval();
  const D = vit.embedDim;
  noGrad(() =>
    scope(() => {
      const images = rand([2, 3, 32, 32]);
      assert.equal(probeFeatureDim(vit, { blocks: 2, avgpool: false }), 2 * D);
      assert.equal(probeFeatureDim(vit, { blocks: 2, avgpool: true }), 3 * D);
      const plain = probeFeatures(vit, images, { blocks: 2, avgpool: false });
      assert.deepEqual(plain.shape, [2, 2 * D]);
      const own = cat(vit.lastBlocksCls(images, 2), 1);
      assert.ok(plain.sub(own).abs().max().item() < 1e-5, "equal to lastBlocksCls");
      const pooled = probeFeatures(vit, images, { blocks: 1, avgpool: true });
      assert.deepEqual(pooled.shape, [2, 2 * D]);
      const { cls, patchTokens } = vit.forward(images);
      assert.ok(pooled.narrow(1, 0, D).sub(cls).abs().max().item() < 1e-5, "the last block's [CLS]");
      assert.ok(
        pooled.narrow(1, D, D).sub(patchTokens.mean(1)).abs().max().item() < 1e-5,
        "the mean of the last block's patch tokens",
      );
      assert.throws(
        () => probeFeatures(vit, images, { blocks: 4, avgpool: false }),
        /--blocks must be .* 1 to .* depth 3, got 4/,
      );
    }),
  );
});

test("mismatched labels and features are refused with a clear message", () => {
  const { features, labels } = axisSet(2, 0);
  const common = { classes: 3, epochs: 1, batchSize: 4 };
  assert.throws(
    () => trainLinearProbe({ ...common, trainFeatures: features, trainLabels: labels.slice(1) }),
    /linear probe: 6 train features but 5 train labels/,
  );
  assert.throws(
    () => trainLinearProbe({ ...common, trainFeatures: features, trainLabels: labels.map((l) => l + 1) }),
    /train label 3 at 4 is not one of the 3 classes/,
  );
  assert.throws(
    () => trainLinearProbe({ ...common, trainFeatures: features.flatten(), trainLabels: labels }),
    /train features must be \[count, dim\], got \[18\]/,
  );
  const probe = trainLinearProbe({ ...common, trainFeatures: features, trainLabels: labels });
  assert.throws(
    () => probeAccuracy(probe.classifier, features.narrow(1, 0, 2), labels),
    /test features have 2 dimensions but the classifier takes 3/,
  );
  assert.throws(() => probeAccuracy(probe.classifier, features, [0, 1]), /6 test features but 2 test labels/);
  features.dispose();
});

/** A random ViT-Tiny/8 at 32 px, saved as onevideo's exported weights. */
function randomWeights(): string {
  const path = join(dir, "random.safetensors");
  writeSafetensors(path, createVit("vit_tiny", { patchSize: 8, imageSize: 32 }).stateDict());
  return path;
}

function imageFolder(name: string, colours: string[], perClass: number): string {
  const root = join(dir, name);
  for (const colour of colours) {
    mkdirSync(join(root, colour), { recursive: true });
    for (let i = 0; i < perClass; i++) syntheticImage(join(root, colour, `${i}.png`), "40x30", colour);
  }
  return root;
}

test("eval linear on ImageFolder sets: solid colours are classified perfectly", () => {
  const colours = ["red", "green", "blue"];
  const args = [
    ...["--checkpoint", randomWeights()],
    ...["--train", imageFolder("train", colours, 2), "--test", imageFolder("test", colours, 1)],
    ...["--epochs", "5", "--batch-size", "4", "--lr", "0.01", "--blocks", "2"],
  ];
  const { code, stdout, stderr } = onevideo("eval", "linear", ...args);
  assert.equal(code, 0, stderr);
  const lines = stdout.trim().split("\n");
  assert.equal(lines.length, 1);
  const report = JSON.parse(lines[0]);
  assert.deepEqual(
    { top1: report.top1, top5: report.top5, epochs: report.epochs, dim: report.dim, size: report.size },
    { top1: 100, top5: null, epochs: 5, dim: 2 * 192, size: 32 },
  );
  // DINO's protocol took random crops of the originals (a solid colour's crops are that colour)
  // and reported its best evaluation; the cached features with the avgpool ones take the fast path.
  assert.ok(
    report.bestEpoch >= 1 && report.bestEpoch <= 5 && report.lastTop1 === 100,
    JSON.stringify(report),
  );
  assert.equal(report.cachedFeatures, false);
  const cached = onevideo("eval", "linear", ...args, "--cached-features", "--avgpool", "--epochs", "2");
  assert.equal(cached.code, 0, cached.stderr);
  const second = JSON.parse(cached.stdout);
  assert.deepEqual([second.top1, second.dim, second.cachedFeatures, second.epochs], [100, 3 * 192, true, 2]);

  const wrongClasses = imageFolder("other", ["red", "yellow", "blue"], 1);
  const cases: [string[], 1 | 2, RegExp][] = [
    [["--checkpoint", "x"], 2, /give --dataset fashion-mnist, or --train <dir> and --test <dir>/],
    [[...args, "--colour", "red"], 2, /unknown option 'colour'/],
    [[...args, "--blocks", "13"], 1, /--blocks must be an integer from 1 to the encoder's depth 12, got 13/],
    [
      [...args, "--test", wrongClasses],
      1,
      /the test classes \(blue, red, yellow\) are not the train classes/,
    ],
    [[...args, "--epochs", "0"], 2, /invalid option --epochs/],
  ];
  for (const [extra, exitCode, expected] of cases) {
    const result = onevideo("eval", "linear", ...extra);
    assert.equal(result.code, exitCode, `${extra.join(" ")}: exit ${result.code}, ${result.stderr}`);
    assert.match(result.stderr, expected, extra.join(" "));
    assert.equal(result.stderr.trim().split("\n").length, 1, `one line: ${result.stderr}`);
    assert.equal(result.stdout, "");
  }
  const help = onevideo("eval", "linear", "--help").stdout;
  for (const flag of [
    "--blocks",
    "--avgpool",
    "--cached-features",
    "--val-every",
    "--epochs",
    "--lr",
    "--weight-decay",
  ])
    assert.match(help, new RegExp(`${flag} `));
  assert.match(onevideo("eval", "--help").stdout, /^ {2}linear /m);
});

test("the protocol's train view: torchvision's RandomResizedCrop of the original, then a flip", () => {
  // A horizontal ramp: a crop's columns rise left to right, mirrored ones fall.
  const ramp = scope(() =>
    tensor(
      Float32Array.from({ length: 28 * 28 }, (_, i) => (i % 28) / 27),
      { shape: [1, 1, 28, 28] },
    )
      .expand(1, 3, 28, 28)
      .contiguous(),
  );
  const random = new Random(1);
  let flipped = 0;
  for (let i = 0; i < 40; i++) {
    const box = sampleCropBox(28, 28, { scale: [0.08, 1], flipProbability: 0.5 }, random);
    assert.ok(
      box.width * box.height >= 0.08 * 784 * 0.9 && box.left + box.width <= 28 && box.top + box.height <= 28,
    );
    const view = resizedCrop(ramp, box, 16);
    const row = view.select(1, 0).select(1, 8).squeeze(0).toArray();
    const rising = row[15] > row[0];
    assert.equal(rising, !box.flipped, `box ${JSON.stringify(box)}`);
    if (box.flipped) flipped++;
    // The crop covers its box's columns of the ramp: their mean value comes through the resize.
    const mean = row.reduce((sum, value) => sum + value, 0) / row.length;
    const expected = (box.left + (box.width - 1) / 2) / 27;
    assert.ok(Math.abs(mean - expected) < 0.02, `row mean ${mean}, box columns' mean ${expected}`);
  }
  assert.ok(flipped > 8 && flipped < 32, `${flipped} of 40 flipped`);
});
