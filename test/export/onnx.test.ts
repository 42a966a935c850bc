// onevideo export --format onnx: the graph onevideo writes, run by onnxruntime-node (from npm,
// its own CPU kernels), gives onevideo's own forward on real photos to 1e-4: for ViTs the [CLS]
// feature, the patch tokens and the last block's [CLS] attention, with a dynamic batch, at the
// encoder's size and at another one (the position embedding interpolated at export); for
// VADeR's dense encoder the per-pixel embeddings and the pooled feature.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { normalizeImages } from "../../src/augment/photometric.ts";
import { readCenterCrop } from "../../src/data/image_file.ts";
import { listPhotos } from "../../src/data/tours/photos.ts";
import { modelMetadataEntry, vitMetadata } from "../../src/models/model_metadata.ts";
import { denseEncoder } from "../../src/models/dense.ts";
import { createVit, type VitArchitecture } from "../../src/models/vit.ts";
import { manualSeed, noGrad, stack, type Tensor, tensor, writeSafetensors } from "../../src/torch/index.ts";
import { scratchDir } from "../helpers/videos.ts";

const cli = fileURLToPath(new URL("../../bin/onevideo.js", import.meta.url));
const dir = scratchDir();
mkdirSync(join(dir, "photos"));
const photos = listPhotos()
  .slice(3, 6)
  .map((photo, i) => {
    const path = join(dir, "photos", `${i}.jpg`);
    copyFileSync(photo, path);
    return path;
  });

/** The photos' evaluation views, normalised: the model's input. */
function images(side: number): Tensor {
  return normalizeImages(
    stack(
      photos.map((path) =>
        tensor(readCenterCrop(path, side).data, { shape: [side, side, 3] })
          .permute(2, 0, 1)
          .float()
          .div(255),
      ),
    ),
  );
}

function maxDifference(ours: Tensor, theirs: ort.Tensor): number {
  assert.deepEqual(ours.shape, [...theirs.dims]);
  const a = ours.contiguous().data() as Float32Array;
  const b = theirs.data as Float32Array;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

async function check(
  architecture: VitArchitecture,
  patchSize: number,
  trainedSize: number,
  exportSize: number,
) {
  manualSeed(11);
  const vit = createVit(architecture, { patchSize, imageSize: trainedSize });
  vit.eval();
  const weights = join(dir, `${architecture}-${patchSize}.safetensors`);
  writeSafetensors(weights, vit.stateDict(), modelMetadataEntry(vitMetadata(vit, architecture)));
  const model = join(dir, `${architecture}-${patchSize}-${exportSize}.onnx`);
  const exported = spawnSync(
    process.execPath,
    [
      cli,
      "export",
      "--checkpoint",
      weights,
      "--image-size",
      String(exportSize),
      "--attention",
      "--out",
      model,
    ],
    { encoding: "utf8" },
  );
  assert.equal(exported.status, 0, exported.stderr);
  assert.equal(exported.stdout.trim(), model);

  const input = images(exportSize);
  const ours = noGrad(() => vit.forward(input, { captureBlock: -1 }));
  const clsAttention = ours.captured!.attention.select(2, 0).slice(2, 1, null);
  const session = await ort.InferenceSession.create(model);
  const data = input.contiguous().data() as Float32Array;
  const theirs = await session.run({ images: new ort.Tensor("float32", data, input.shape) });
  const label = `${architecture}/${patchSize} at ${exportSize}`;
  for (const [name, value] of [
    ["cls", ours.cls],
    ["patch_tokens", ours.patchTokens],
    ["attention", clsAttention],
  ] as const) {
    const difference = maxDifference(value, theirs[name]);
    assert.ok(difference < 1e-4, `${label}: ${name} differs by ${difference}`);
  }
  // The batch is dynamic: one image alone gives its row of the three.
  const one = await session.run({
    images: new ort.Tensor("float32", data.slice(0, data.length / photos.length), [
      1,
      ...input.shape.slice(1),
    ]),
  });
  assert.ok(maxDifference(ours.cls.narrow(0, 0, 1), one.cls) < 1e-4, `${label}: batch of one`);
  await session.release();
}

test("ViT-Tiny/8 at its size and interpolated to another: onnxruntime-node gives onevideo's outputs to 1e-4", async () => {
  await check("vit_tiny", 8, 64, 64);
  await check("vit_tiny", 8, 64, 96);
});

test("ViT-S/16 at 224 px: onnxruntime-node gives onevideo's outputs to 1e-4", async () => {
  await check("vit_small", 16, 224, 224);
});

test("VADeR's ResNet-18 + FPN: onnxruntime-node gives the embeddings and the pooled feature to 1e-4", async () => {
  manualSeed(12);
  const encoder = denseEncoder({ backbone: "resnet18", embeddingDim: 32, decoderWidth: 64 });
  // Batch norm's running statistics away from 0 and 1, so that the export must carry them.
  encoder.train();
  noGrad(() => {
    for (let i = 0; i < 3; i++) encoder.encode(images(64).mul(1.5).add(0.3)).embeddings.dispose();
  });
  encoder.eval();
  const weights = join(dir, "dense.safetensors");
  const metadata = { kind: "dense", backbone: "resnet18", embeddingDim: 32, decoderWidth: 64 } as const;
  writeSafetensors(weights, encoder.stateDict(), modelMetadataEntry(metadata));
  const model = join(dir, "dense.onnx");
  const exported = spawnSync(
    process.execPath,
    [cli, "export", "--checkpoint", weights, "--image-size", "96", "--out", model, "--json"],
    { encoding: "utf8" },
  );
  assert.equal(exported.status, 0, exported.stderr);
  assert.deepEqual(JSON.parse(exported.stdout).outputs, {
    embeddings: ["batch", 32, 24, 24],
    pooled: ["batch", 512],
  });

  const input = images(96);
  const ours = noGrad(() => encoder.encode(input));
  const session = await ort.InferenceSession.create(model);
  const theirs = await session.run({
    images: new ort.Tensor("float32", input.contiguous().data() as Float32Array, input.shape),
  });
  for (const [name, value] of [
    ["embeddings", ours.embeddings],
    ["pooled", ours.pooled],
  ] as const) {
    const difference = maxDifference(value, theirs[name]);
    assert.ok(difference < 1e-4, `dense: ${name} differs by ${difference}`);
  }
  await session.release();
});
