// A short real DoRA run on opencv-doc's street video: the loss falls, the discovered masks
// are neither empty nor full, and after training they follow the content: identical
// frames get identical masks, while the moving street changes them a little.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { normalizeImages } from "../../src/augment/photometric.ts";
import { demoOptions } from "../../src/pretrain/demo.ts";
import { pretrain } from "../../src/pretrain/pretrain.ts";
import { rgbBatch } from "../../src/data/frame_source.ts";
import { loadEncoder } from "../../src/eval/encoder.ts";
import { discoverInClips } from "../../src/discovery/clip_discovery.ts";
import { cat, F } from "../../src/torch/index.ts";
import { FrameStore } from "../../src/video/frame_store.ts";
import { scratchDir } from "../helpers/videos.ts";

test("DoRA on vtest.avi: the loss falls and the masks track the content", async () => {
  const dir = scratchDir();
  const run = join(dir, "run");
  const config = {
    ...demoOptions,
    method: "dora",
    batchSize: 4,
    clipLength: 4,
    steps: 100,
    logEvery: 5,
    out: run,
    cacheDir: join(dir, "cache"),
    device: "cpu",
  };
  const { firstLoss } = await pretrain(config);
  const records = readFileSync(join(run, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));
  const losses = records.map((record) => record.loss as number);
  assert.ok(
    Math.min(...losses) < firstLoss - 0.3,
    `first ${firstLoss}, losses ${losses.map((l) => l.toFixed(2))}`,
  );
  for (const { step, mask_area: area } of records) {
    assert.ok(area > 0.05 && area < 0.95, `step ${step}: masks cover ${area} of the view`);
  }

  // The trained teacher on one real clip, and on its first frame repeated.
  const { backbone } = loadEncoder(run);
  const cache = await FrameStore.open(config.video!, {
    shortSide: Math.round(config.imageSize * 1.15),
    sampling: { clipLength: 4, frameStride: 2, clipSpacing: 200 },
    cacheRoot: join(dir, "cache"),
  });
  const { width, height } = cache;
  const frames = rgbBatch(cache.readClip(1), 4, height, width, "cpu");
  cache.close();
  const square = F.interpolate(frames, { size: [config.imageSize, config.imageSize], mode: "bilinear" });
  const still = cat([0, 0, 0, 0].map(() => square.narrow(0, 0, 1)));
  const options = { attentionBlock: -1, sinkhornIterations: 30, sinkhornEpsilon: 0.05 };
  const moving = discoverInClips(
    backbone,
    normalizeImages(cat([square, still])),
    2,
    [0, 1, 2],
    options,
  ).masks;
  const changed = (clip: number, object: number) => {
    const first = moving.select(0, clip).select(1, object).select(0, 0);
    const last = moving.select(0, clip).select(1, object).select(0, 3);
    return first.ne(last).float().mean().item();
  };
  for (let object = 0; object < 3; object++) {
    assert.equal(changed(1, object), 0, "a still clip keeps its masks");
    const moved = changed(0, object);
    assert.ok(moved < 0.5, `object ${object}: ${moved} of the mask changes in 6 frames`);
  }
  const anyMoved = [0, 1, 2].some((object) => changed(0, object) > 0);
  assert.ok(anyMoved, "the masks follow the people walking");
});
