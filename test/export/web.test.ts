// onevideo export --format web: the folder, served on localhost, opens in headless Chromium
// with no console errors, runs the bundled sample with onnxruntime-web, and gives the [CLS]
// output that onnxruntime-node gives for the same input to 1e-4; an image the user picks runs too.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { listPhotos } from "../../src/data/tours/photos.ts";
import { modelMetadataEntry, vitMetadata } from "../../src/models/model_metadata.ts";
import { createVit } from "../../src/models/vit.ts";
import { manualSeed, writeSafetensors } from "../../src/torch/index.ts";
import { openServed } from "../helpers/browser.ts";
import { scratchDir } from "../helpers/videos.ts";

const cli = fileURLToPath(new URL("../../bin/onevideo.js", import.meta.url));
const dir = scratchDir();

test("the web export runs in headless Chromium: no console errors, the sample's [CLS] as onnxruntime-node's", async () => {
  manualSeed(5);
  const vit = createVit("vit_tiny", { patchSize: 8, imageSize: 64 });
  const weights = join(dir, "vit.safetensors");
  writeSafetensors(weights, vit.stateDict(), modelMetadataEntry(vitMetadata(vit, "vit_tiny")));
  const [sample, picked] = listPhotos().slice(6, 8);
  const out = join(dir, "web");
  const exported = spawnSync(
    process.execPath,
    [cli, "export", "--checkpoint", weights, "--format", "web", "--sample", sample, "--out", out],
    { encoding: "utf8" },
  );
  assert.equal(exported.status, 0, exported.stderr);
  assert.deepEqual(readdirSync(out).sort(), [
    "index.html",
    "model.onnx",
    "ort-wasm-simd-threaded.mjs",
    "ort-wasm-simd-threaded.wasm",
    "ort.wasm.min.js",
    "sample.f32",
    "sample.png",
  ]);

  const opened = await openServed(out);
  try {
    const { page, errors } = opened;
    // The page's own expressions (this file has no DOM types).
    await page.waitForFunction('document.body.dataset.ready === "1"', null, { timeout: 90_000 });
    const result = JSON.parse((await page.textContent("#result"))!) as { dims: number[]; cls: number[] };
    assert.deepEqual(result.dims, [1, 192]);
    // The image and one map per head.
    assert.equal(await page.locator("#maps canvas").count(), 1 + 3);

    const bytes = readFileSync(join(out, "sample.f32"));
    const input = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    const session = await ort.InferenceSession.create(join(out, "model.onnx"));
    const node = await session.run({ images: new ort.Tensor("float32", input, [1, 3, 64, 64]) });
    const expected = node.cls.data as Float32Array;
    const worst = Math.max(...result.cls.map((value, i) => Math.abs(value - expected[i])));
    assert.ok(worst < 1e-4, `the page's [CLS] differs from onnxruntime-node's by ${worst}`);
    await session.release();

    // An image the user picks: prepared by the canvas, run, its maps drawn.
    await page.setInputFiles("#pick", picked);
    await page.waitForFunction('document.getElementById("status").textContent.endsWith(".jpg")', null, {
      timeout: 60_000,
    });
    assert.equal(await page.locator("#maps canvas").count(), 1 + 3);
    assert.deepEqual(errors, []);
  } finally {
    await opened.close();
  }
});
