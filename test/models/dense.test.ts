// Dense encoders: the ResNet + FPN decoder against the same model assembled in python3-torch
// from torchvision's ResNet and FeaturePyramidNetwork; output grids, unit norms and gradient
// flow for ResNet and ViT backbones; the factory's checks.
import assert from "node:assert/strict";
import { test } from "node:test";
import { maxAbsDiff, runTorch } from "../helpers/python.ts";
import { denseEncoder, type DenseEncoder } from "../../src/models/dense.ts";
import { ResNetDenseEncoder } from "../../src/models/fpn.ts";
import { VitDenseEncoder } from "../../src/models/vit_dense.ts";
import { BatchNorm2d } from "../../src/nn/index.ts";
import { manualSeed, noGrad, randn, type Tensor } from "../../src/torch/index.ts";

function assertUnitNorm(embeddings: Tensor, what: string): void {
  const norms = embeddings.norm(2, 1).toArray();
  const worst = norms.reduce((largest, norm) => Math.max(largest, Math.abs(norm - 1)), 0);
  assert.ok(worst < 1e-5, `${what}: a pixel's norm is off 1 by ${worst}`);
}

/** Backward through a random projection of the embeddings; every parameter must get a nonzero gradient. */
function assertGradientsReachEveryParameter(encoder: DenseEncoder, images: Tensor): void {
  encoder.train();
  encoder.zeroGrad();
  const embeddings = encoder.forward(images);
  embeddings.mul(randn(embeddings.shape)).sum().backward();
  const starved = encoder
    .namedParameters()
    .filter(([, parameter]) => parameter.grad === null || parameter.grad.abs().max().item() === 0)
    .map(([name]) => name);
  assert.deepEqual(starved, [], "parameters without a gradient");
}

function relativeDiff(actual: Tensor, expected: Tensor): number {
  const scale = expected.toArray().reduce((largest, value) => Math.max(largest, Math.abs(value)), 0);
  return maxAbsDiff(actual, expected) / (scale || 1);
}

// The same computation on both sides, so it is compared in float64: what is left is summation
// order (~1e-13 relative), not the CPU's float32 kernels (an AMD machine's differed by 5e-3).
test("resnet18 + FPN decoder equals torchvision's ResNet + FeaturePyramidNetwork + Panoptic FPN merge: eval, train, every gradient", () => {
  manualSeed(5);
  const encoder = denseEncoder({ backbone: "resnet18" }).to("float64");
  assert.ok(encoder instanceof ResNetDenseEncoder);
  noGrad(() => {
    for (const [, module] of encoder.namedModules()) {
      if (!(module instanceof BatchNorm2d)) continue;
      module.runningMean.uniform_(-0.1, 0.1);
      module.runningVar.uniform_(0.5, 1.5);
    }
  });
  const images = randn([2, 3, 64, 96], { dtype: "float64" });
  const weights = randn([2, 128, 16, 24], { dtype: "float64" });
  const inputs = new Map<string, Tensor>([
    ["images", images],
    ["weights", weights],
  ]);
  for (const [name, tensor] of encoder.stateDict()) inputs.set(`model.${name}`, tensor.detach());
  const reference = runTorch(
    `
import dense_reference
model = dense_reference.ResNetDenseEncoder("resnet18").double()
model.load_state_dict({k[6:]: v for k, v in inputs.items() if k.startswith("model.")}, strict=True)
model.eval()
with torch.no_grad():
    outputs["embeddings"], outputs["pooled"] = model(inputs["images"])
model.train()
embeddings, _ = model(inputs["images"])
outputs["train_embeddings"] = embeddings.detach()
(embeddings * inputs["weights"]).sum().backward()
for name, parameter in model.named_parameters():
    outputs["grad." + name] = parameter.grad
for name, value in model.state_dict().items():
    if "running" in name or "num_batches" in name:
        outputs["after." + name] = value
`,
    inputs,
  );

  encoder.eval();
  noGrad(() => {
    const { embeddings, pooled } = encoder.encode(images);
    assert.deepEqual(embeddings.shape, [2, 128, 16, 24]);
    assert.ok(maxAbsDiff(embeddings, reference.get("embeddings")!) < 1e-10, "eval embeddings");
    assert.ok(relativeDiff(pooled, reference.get("pooled")!) < 1e-10, "pooled");
    assert.ok(
      relativeDiff(encoder.globalFeatures(images), reference.get("pooled")!) < 1e-10,
      "globalFeatures",
    );
  });

  encoder.train();
  const embeddings = encoder.forward(images);
  assert.ok(maxAbsDiff(embeddings, reference.get("train_embeddings")!) < 1e-10, "train embeddings");
  embeddings.mul(weights).sum().backward();
  for (const [name, parameter] of encoder.namedParameters()) {
    const expected = reference.get(`grad.${name}`)!;
    assert.ok(parameter.grad, `${name} has a gradient`);
    assert.ok(expected.abs().max().item() > 0, `${name}'s reference gradient is not zero`);
    const difference = relativeDiff(parameter.grad, expected);
    assert.ok(difference < 1e-9, `grad ${name}: relative difference ${difference}`);
  }
  for (const [name, buffer] of encoder.namedBuffers()) {
    assert.ok(
      relativeDiff(buffer, reference.get(`after.${name}`)!) < 1e-10,
      `after the train forward: ${name}`,
    );
  }
});

test("ResNet dense encoders give [N, 128, ceil(H/4), ceil(W/4)] of unit norm at 224, non-square and odd sizes", () => {
  manualSeed(6);
  const resnet50 = denseEncoder({ backbone: "resnet50" }).eval();
  assert.equal(resnet50.embeddingDim, 128);
  assert.equal(resnet50.globalDim, 2048);
  noGrad(() => {
    const { embeddings, pooled } = resnet50.encode(randn([1, 3, 224, 224]));
    assert.deepEqual(embeddings.shape, [1, 128, 56, 56]);
    assert.deepEqual(pooled.shape, [1, 2048]);
    assertUnitNorm(embeddings, "resnet50 at 224");
  });

  const resnet18 = denseEncoder({ backbone: "resnet18", embeddingDim: 32 }).eval();
  noGrad(() => {
    for (const [height, width, expected] of [
      [64, 96, [2, 32, 16, 24]],
      [70, 50, [2, 32, 18, 13]],
    ] as const) {
      const embeddings = resnet18.forward(randn([2, 3, height, width]));
      assert.deepEqual(embeddings.shape, expected);
      assertUnitNorm(embeddings, `resnet18 at ${height}x${width}`);
    }
  });
});

test("gradients reach every parameter of the ResNet dense encoder (odd input size, train mode)", () => {
  manualSeed(7);
  assertGradientsReachEveryParameter(denseEncoder({ backbone: "resnet18" }), randn([2, 3, 38, 46]));
});

test("the ViT dense encoder gives [N, D, ceil(H/4), ceil(W/4)] of unit norm, and gradients reach every parameter", () => {
  manualSeed(8);
  const patch16 = denseEncoder({ backbone: "vit_tiny", vit: { depth: 2 } });
  assert.ok(patch16 instanceof VitDenseEncoder);
  assert.equal(patch16.decoder.stages.length, 2);
  assert.equal(patch16.globalDim, 192);
  patch16.eval();
  noGrad(() => {
    const images = randn([1, 3, 224, 224]);
    const { embeddings, pooled } = patch16.encode(images);
    assert.deepEqual(embeddings.shape, [1, 128, 56, 56]);
    assertUnitNorm(embeddings, "vit_tiny/16 at 224");
    assert.deepEqual(pooled.shape, [1, 192]);
    assert.ok(maxAbsDiff(patch16.globalFeatures(images), patch16.backbone.forward(images).cls) < 1e-6);
    const odd = patch16.forward(randn([2, 3, 70, 50]));
    assert.deepEqual(odd.shape, [2, 128, 18, 13]);
    assertUnitNorm(odd, "vit_tiny/16 at 70x50");
  });

  const patch8 = denseEncoder({
    backbone: "vit_tiny",
    patchSize: 8,
    embeddingDim: 64,
    vit: { depth: 2, imageSize: 64 },
  });
  assert.ok(patch8 instanceof VitDenseEncoder);
  assert.equal(patch8.decoder.stages.length, 1);
  patch8.eval();
  noGrad(() => {
    const embeddings = patch8.forward(randn([2, 3, 64, 96]));
    assert.deepEqual(embeddings.shape, [2, 64, 16, 24]);
    assertUnitNorm(embeddings, "vit_tiny/8 at 64x96");
  });
  assertGradientsReachEveryParameter(patch8, randn([2, 3, 64, 96]));
});

test("denseEncoder rejects unknown backbones and options that do not fit the backbone", () => {
  assert.throws(
    () => denseEncoder({ backbone: "resnet7" as never }),
    /unknown backbone 'resnet7'; choose one of resnet18/,
  );
  assert.throws(
    () => denseEncoder({ backbone: "resnet18", patchSize: 16 }),
    /patchSize and vit apply to ViT/,
  );
  assert.throws(() => denseEncoder({ backbone: "vit_tiny", patchSize: 12 }), /power of two >= 4.*got 12/);
  assert.throws(() => denseEncoder({ backbone: "vit_tiny", zeroInitResidual: true }), /applies to ResNet/);
  assert.throws(
    () => denseEncoder({ backbone: "resnet18", embeddingDim: 0 }),
    /embeddingDim must be a whole number/,
  );
});
