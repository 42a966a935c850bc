// A short real VADeR run on opencv-doc's street video (the demo preset: ResNet-18 + FPN at
// 64 px): once the queue holds real keys the loss falls, and the trained features tell a
// scene point's match in another view from the other points better than at initialisation.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { gatherPairFeatures, samplePairBatch } from "../../src/augment/correspondence.ts";
import { normalizeImages } from "../../src/augment/photometric.ts";
import { renderViews, sampleViewGeometry } from "../../src/augment/view_geometry.ts";
import { pretrain, resolveConfig } from "../../src/pretrain/pretrain.ts";
import { rgbBatch } from "../../src/data/frame_source.ts";
import { Random } from "../../src/util/random.ts";
import { createVaderEncoder, type VaderConfig } from "../../src/methods/vader.ts";
import type { DenseEncoder } from "../../src/models/dense.ts";
import { manualSeed, noGrad, readSafetensors, type Tensor } from "../../src/torch/index.ts";
import { FrameStore } from "../../src/video/frame_store.ts";
import { scratchDir, vtest } from "../helpers/videos.ts";

/**
 * Over pairs of views of held-out frames: how often a cell's best match among the pair
 * points of its image is its own point (top-1), and its cosine to its own point minus the
 * mean cosine to the others (margin).
 */
function correspondenceScores(
  encoder: DenseEncoder,
  images: Tensor,
): { top1: number; margin: number; cells: number } {
  const [count, , height, width] = images.shape;
  const random = new Random(7);
  const options = { scale: [0.3, 1] as [number, number], flipProbability: 0.5 };
  const views = () => Array.from({ length: count }, () => sampleViewGeometry(width, height, options, random));
  const [geometriesA, geometriesB] = [views(), views()];
  const pairs = samplePairBatch(geometriesA, geometriesB, [16, 16], random, {
    count: 32,
    shortfall: "truncate",
  });
  return noGrad(() => {
    const featuresA = encoder.forward(normalizeImages(renderViews(images, geometriesA, 64).views));
    const featuresB = encoder.forward(normalizeImages(renderViews(images, geometriesB, 64).views));
    const { a, b } = gatherPairFeatures(featuresA, featuresB, pairs);
    const similarity = a.bmm(b.div(b.norm(2, 2, true)).transpose(1, 2)).toArray(); // [N, P, P]
    const valid = pairs.valid.toArray();
    const slots = 32;
    let hits = 0;
    let cells = 0;
    let margin = 0;
    for (let image = 0; image < count; image++) {
      const real = [...Array(slots).keys()].filter((slot) => valid[image * slots + slot]);
      for (const i of real) {
        const row = real.map((j) => similarity[(image * slots + i) * slots + j]);
        const own = similarity[(image * slots + i) * slots + i];
        const others = row.reduce((sum, value) => sum + value, 0) - own;
        if (Math.max(...row) === own) hits++;
        margin += own - others / (real.length - 1);
        cells++;
      }
    }
    return { top1: hits / cells, margin: margin / cells, cells };
  });
}

test("VADeR on vtest.avi: the loss falls and matched points grow apart from the rest", async () => {
  const dir = scratchDir();
  const run = join(dir, "run");
  const config = resolveConfig({
    method: "vader",
    preset: "demo",
    video: vtest,
    steps: 150,
    logEvery: 10,
    out: run,
    cacheDir: join(dir, "cache"),
    device: "cpu",
  });
  await pretrain(config);
  const records = readFileSync(join(run, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as { step: number; loss: number });
  // The queue starts as random vectors (an easy task) and holds real keys after 8 steps.
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const early = mean(records.filter(({ step }) => step >= 10 && step <= 40).map(({ loss }) => loss));
  const late = mean(records.filter(({ step }) => step > 110).map(({ loss }) => loss));
  assert.ok(late < early - 0.1, `mean loss ${early.toFixed(3)} at steps 10-40, ${late.toFixed(3)} after 110`);

  // Held-out frames (the run's clips start every 8 frames; these are frames 3, 100, ...).
  const cache = await FrameStore.open(vtest, {
    shortSide: 74,
    sampling: { clipLength: 1, frameStride: 1, clipSpacing: 97 },
    cacheRoot: join(dir, "cache"),
  });
  const count = 8;
  const bytes = new Uint8Array(count * cache.frameBytes);
  for (let i = 0; i < count; i++) bytes.set(cache.readClip(i), i * cache.frameBytes);
  const images = rgbBatch(bytes, count, cache.height, cache.width, "cpu");
  cache.close();
  manualSeed(config.seed);
  const initial = createVaderEncoder(config as VaderConfig, 0).eval();
  const trained = createVaderEncoder(config as VaderConfig, 0);
  trained.loadStateDict(readSafetensors(join(run, "dense.safetensors")).tensors);
  trained.eval();
  const before = correspondenceScores(initial, images);
  const after = correspondenceScores(trained, images);
  const report = `before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`;
  assert.ok(after.margin > 1.5 * before.margin, report);
  assert.ok(after.margin > 0.05, report);
  // Top-1 over ~256 cells moves by a cell or two with float rounding in the 150 steps
  // (~0.004 each): it may not fall by more than its standard error.
  const standardError = Math.sqrt((before.top1 * (1 - before.top1)) / before.cells);
  assert.ok(after.top1 >= before.top1 - standardError, report);
});
