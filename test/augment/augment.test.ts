// Augmentation geometry and photometric transforms on known inputs.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { cropAndResize, randomResizedCrops, sampleCropBox } from "../../src/augment/crop.ts";
import { multiCrop } from "../../src/augment/multicrop.ts";
import { dinoMultiCrop } from "../../src/augment/options.ts";
import {
  adjustColors,
  colorJitter,
  normalizeImages,
  randomGaussianBlur,
  randomGrayscale,
  randomSolarize,
} from "../../src/augment/photometric.ts";
import { Random } from "../../src/util/random.ts";
import { arange, full, rand } from "../../src/torch/index.ts";
import { maxAbsDiff, referencePython } from "../helpers/python.ts";

const image = arange(0, 2 * 3 * 16 * 20, 1, { dtype: "float32" }).reshape(2, 3, 16, 20);

test("a crop the size of its output is an exact slice; a flipped one its mirror", () => {
  const boxes = [
    { left: 2, top: 3, width: 8, height: 8, flipped: false },
    { left: 10, top: 5, width: 8, height: 8, flipped: true },
  ];
  const crops = cropAndResize(image, boxes, 8);
  assert.ok(maxAbsDiff(crops.select(0, 0), image.select(0, 0).slice(1, 3, 11).slice(2, 2, 10)) < 1e-3);
  assert.ok(
    maxAbsDiff(crops.select(0, 1), image.select(0, 1).slice(1, 5, 13).slice(2, 10, 18).flip(2)) < 1e-3,
  );
});

test("sampled boxes lie inside the image with area and aspect in range; groups share a box", () => {
  const random = new Random(1);
  for (let i = 0; i < 500; i++) {
    const box = sampleCropBox(120, 80, { size: 32, scale: [0.05, 0.4] }, random);
    assert.ok(box.left >= 0 && box.top >= 0 && box.left + box.width <= 120 && box.top + box.height <= 80);
    const area = (box.width * box.height) / (120 * 80);
    assert.ok(area > 0.04 && area < 0.42, `area ${area}`);
    const aspect = box.width / box.height;
    assert.ok(aspect > 0.7 && aspect < 1.4, `aspect ${aspect}`);
  }
  const { boxes, crops } = randomResizedCrops(
    rand([4, 3, 16, 20]),
    { size: 8, scale: [0.2, 1] },
    random,
    [0, 0, 1, 1],
  );
  assert.deepEqual(crops.shape, [4, 3, 8, 8]);
  assert.deepEqual(boxes[0], boxes[1]);
  assert.deepEqual(boxes[2], boxes[3]);
  assert.notDeepEqual(boxes[0], boxes[2]);
});

test("photometric transforms do what they say", () => {
  const random = new Random(2);
  const images = rand([3, 3, 8, 8]);
  const gray = randomGrayscale(images, 1, random);
  assert.ok(maxAbsDiff(gray.select(1, 0), gray.select(1, 2)) < 1e-6, "grayscale: equal channels");
  const solarized = randomSolarize(images, 1, random);
  const expected = images.ge(0.5).float().mul(images.rsub(1)).add(images.lt(0.5).float().mul(images));
  assert.ok(maxAbsDiff(solarized, expected) < 1e-6, "solarize inverts the bright half");
  const flat = full([2, 3, 9, 9], 0.3);
  assert.ok(maxAbsDiff(randomGaussianBlur(flat, 1, [1, 2], random), flat) < 1e-6, "blur keeps a flat image");
  const blurred = randomGaussianBlur(images, 1, [1, 2], random);
  assert.ok(blurred.std().item() < images.std().item(), "blur smooths noise");
  assert.ok(maxAbsDiff(randomGaussianBlur(images, 0, [1, 2], random), images) < 1e-7, "p = 0: unchanged");
  const untouched = colorJitter(
    images,
    { probability: 0, brightness: 0.4, contrast: 0.4, saturation: 0.2, hue: 0.1 },
    random,
  );
  assert.ok(maxAbsDiff(untouched, images) < 1e-5, "jitter with p = 0 is the identity (exact YIQ round trip)");
  const jittered = colorJitter(
    images,
    { probability: 1, brightness: 0.4, contrast: 0.4, saturation: 0.2, hue: 0.1 },
    random,
  );
  assert.ok(maxAbsDiff(jittered, images) > 0.01);
  assert.ok(jittered.min().item() >= 0 && jittered.max().item() <= 1);
  const normalized = normalizeImages(full([1, 3, 2, 2], 0.485));
  assert.ok(Math.abs(normalized.select(1, 0).mean().item()) < 1e-6);
});

test("colour jitter matches torchvision's formulas pixel by pixel (hue 0.5 turns a pixel to 2 * luma - pixel)", () => {
  const images = rand([2, 3, 4, 5]);
  const factors = { brightness: [1.2, 0.8], contrast: [0.7, 1.3], saturation: [1.3, 0.5], hue: [0.5, 0] };
  const adjusted = adjustColors(images, factors).toArray();
  const pixels = images.toArray();
  const plane = 4 * 5;
  const clamp = (v: number) => Math.min(1, Math.max(0, v));
  const luma = (rgb: number[]) => 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
  let worst = 0;
  for (let n = 0; n < 2; n++) {
    const rgbAt = (p: number) => [0, 1, 2].map((c) => pixels[(n * 3 + c) * plane + p]);
    const bright = Array.from({ length: plane }, (_, p) =>
      rgbAt(p).map((v) => clamp(v * factors.brightness[n])),
    );
    const meanLuma = bright.reduce((sum, rgb) => sum + luma(rgb), 0) / plane;
    for (let p = 0; p < plane; p++) {
      const [c, s, h] = [factors.contrast[n], factors.saturation[n], factors.hue[n]];
      const contrasted = bright[p].map((v) => clamp(c * v + (1 - c) * meanLuma));
      const gray = luma(contrasted);
      const saturated = contrasted.map((v) => clamp(s * v + (1 - s) * gray));
      const y = luma(saturated);
      const hued = h === 0.5 ? saturated.map((v) => clamp(2 * y - v)) : saturated;
      for (let ch = 0; ch < 3; ch++) {
        worst = Math.max(worst, Math.abs(adjusted[(n * 3 + ch) * plane + p] - hued[ch]));
      }
    }
  }
  assert.ok(worst < 1e-5, `max difference ${worst}`);
});

test("DINO multi-crop makes two global and N local normalised views", () => {
  const random = new Random(3);
  const { globals, locals } = multiCrop(rand([4, 3, 40, 52]), dinoMultiCrop(32, 16, 5), random);
  assert.equal(globals.length, 2);
  assert.equal(locals.length, 5);
  assert.deepEqual(globals[0].images.shape, [4, 3, 32, 32]);
  assert.deepEqual(locals[4].images.shape, [4, 3, 16, 16]);
  // Reproducible: the same seed gives the same views.
  const again = multiCrop(rand([4, 3, 40, 52]), dinoMultiCrop(32, 16, 5), new Random(3));
  assert.deepEqual(again.locals[2].boxes, locals[2].boxes);
});

test("crop boxes follow torchvision's RandomResizedCrop: area, aspect and position over many draws", () => {
  const draws = 4000;
  const stats = (
    boxes: { left: number; top: number; width: number; height: number }[],
    width: number,
    height: number,
  ) => {
    const quartiles = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      return [0.25, 0.5, 0.75].map((q) => sorted[Math.floor(q * (sorted.length - 1))]);
    };
    return [
      ...quartiles(boxes.map((box) => (box.width * box.height) / (width * height))),
      ...quartiles(boxes.map((box) => Math.log(box.width / box.height))),
      ...quartiles(boxes.map((box) => (box.left + box.width / 2) / width)),
    ];
  };
  for (const [width, height, scale] of [
    [300, 300, [0.2, 1]], // DoRA's first crop of a frame
    [533, 300, [0.2, 1]],
    [300, 300, [0.05, 0.4]], // its local crops
  ] as [number, number, [number, number]][]) {
    const random = new Random(11);
    const ours = Array.from({ length: draws }, () =>
      sampleCropBox(width, height, { scale, flipProbability: 0 }, random),
    );
    const theirs = JSON.parse(
      execFileSync(
        referencePython,
        [
          "-c",
          `import json, torch, torchvision.transforms as T
torch.manual_seed(0)
image = torch.zeros(3, ${height}, ${width})
boxes = [T.RandomResizedCrop.get_params(image, scale=(${scale[0]}, ${scale[1]}), ratio=(3 / 4, 4 / 3)) for _ in range(${draws})]
print(json.dumps([dict(top=i, left=j, height=h, width=w) for i, j, h, w in boxes]))`,
        ],
        { encoding: "utf8", maxBuffer: 1 << 24 },
      ),
    );
    const a = stats(ours, width, height);
    const b = stats(theirs, width, height);
    a.forEach((value, i) =>
      assert.ok(
        Math.abs(value - b[i]) < 0.02,
        `${width}x${height} ${scale}: statistic ${i}: ${value} vs ${b[i]}`,
      ),
    );
    assert.ok(
      ours.every(
        (box) =>
          box.left >= 0 && box.top >= 0 && box.left + box.width <= width && box.top + box.height <= height,
      ),
    );
  }
});
