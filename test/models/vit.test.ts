// The ViT against the same model in python3-torch, and DINO's parameter names.
import assert from "node:assert/strict";
import { test } from "node:test";
import { maxAbsDiff, runTorch } from "../helpers/python.ts";
import { createVit } from "../../src/models/vit.ts";
import { Linear } from "../../src/nn/index.ts";
import { AdamW } from "../../src/optim/index.ts";
import { F, manualSeed, randint, randn, type Tensor } from "../../src/torch/index.ts";

// The same computation on both sides, so it runs in float64: Adam divides each gradient by its
// own magnitude, which lifts float32 round-off in near-zero gradients (the key bias's true
// gradient is zero: softmax ignores a shift shared by all keys) to the size of the step, and
// how large that round-off is depends on the BLAS kernel the machine picks.
test("forward (also at an interpolated size) and one AdamW step equal python3-torch's to 1e-5", () => {
  manualSeed(7);
  const model = createVit("vit_tiny", {
    imageSize: 32,
    patchSize: 8,
    depth: 2,
    embedDim: 48,
    numHeads: 3,
  }).to("float64");
  const head = new Linear(48, 5).to("float64");
  const images = randn([4, 3, 32, 32], { dtype: "float64" });
  const larger = randn([2, 3, 48, 40], { dtype: "float64" });
  const labels = randint(0, 5, [4]);
  const inputs = new Map<string, Tensor>([
    ["images", images],
    ["larger", larger],
    ["labels", labels],
  ]);
  for (const [name, tensor] of model.stateDict()) inputs.set(`model.${name}`, tensor.detach().clone());
  for (const [name, tensor] of head.stateDict()) inputs.set(`head.${name}`, tensor.detach().clone());

  const { cls, patchTokens } = model.forward(images);
  const largerCls = model.forward(larger).cls;
  const optimizer = new AdamW([...model.parameters(), ...head.parameters()], {
    lr: 1e-3,
    weightDecay: 0.04,
    eps: 1e-6,
  });
  F.crossEntropy(head.forward(cls), labels).backward();
  optimizer.step();

  const reference = runTorch(
    `
from vit import VisionTransformer
model = VisionTransformer(image_size=32, patch=8, dim=48, depth=2, heads=3).double()
head = torch.nn.Linear(48, 5).double()
model.load_state_dict({k[6:]: v for k, v in inputs.items() if k.startswith("model.")})
head.load_state_dict({k[5:]: v for k, v in inputs.items() if k.startswith("head.")})
cls, patches = model(inputs["images"])
outputs["cls"] = cls.detach()
outputs["patches"] = patches.detach()
outputs["larger_cls"] = model(inputs["larger"])[0].detach()
optimizer = torch.optim.AdamW(list(model.parameters()) + list(head.parameters()), lr=1e-3, weight_decay=0.04, eps=1e-6)
F.cross_entropy(head(cls), inputs["labels"]).backward()
optimizer.step()
for k, v in model.state_dict().items():
    outputs["model." + k] = v
`,
    inputs,
  );
  assert.ok(maxAbsDiff(cls, reference.get("cls")!) < 1e-5, "cls");
  assert.ok(maxAbsDiff(patchTokens, reference.get("patches")!) < 1e-5, "patch tokens");
  assert.ok(maxAbsDiff(largerCls, reference.get("larger_cls")!) < 1e-5, "interpolated position embedding");
  for (const [name, tensor] of model.stateDict()) {
    assert.ok(maxAbsDiff(tensor, reference.get(`model.${name}`)!) < 1e-5, `after the step: ${name}`);
  }
});

test("vit_small/16 has DINO's parameter names and shapes", () => {
  const model = createVit("vit_small", { patchSize: 16 });
  const shapes = new Map([...model.stateDict()].map(([name, t]) => [name, t.shape.join("x")]));
  const expected = new Map<string, string>([
    ["cls_token", "1x1x384"],
    ["pos_embed", "1x197x384"],
    ["patch_embed.proj.weight", "384x3x16x16"],
    ["patch_embed.proj.bias", "384"],
    ["norm.weight", "384"],
    ["norm.bias", "384"],
  ]);
  for (let i = 0; i < 12; i++) {
    for (const [suffix, shape] of [
      ["norm1.weight", "384"],
      ["norm1.bias", "384"],
      ["attn.qkv.weight", "1152x384"],
      ["attn.qkv.bias", "1152"],
      ["attn.proj.weight", "384x384"],
      ["attn.proj.bias", "384"],
      ["norm2.weight", "384"],
      ["norm2.bias", "384"],
      ["mlp.fc1.weight", "1536x384"],
      ["mlp.fc1.bias", "1536"],
      ["mlp.fc2.weight", "384x1536"],
      ["mlp.fc2.bias", "384"],
    ]) {
      expected.set(`blocks.${i}.${suffix}`, shape);
    }
  }
  assert.deepEqual(new Map([...shapes].sort()), new Map([...expected].sort()));
  assert.equal(model.parameterCount(), 21_665_664);
});

test("the chosen block's attention, queries and keys are returned", () => {
  const model = createVit("vit_tiny", { imageSize: 32, patchSize: 8, depth: 3 });
  const { captured } = model.forward(randn([2, 3, 32, 32]), { captureBlock: -2 });
  assert.deepEqual(captured!.attention.shape, [2, 3, 17, 17]);
  assert.deepEqual(captured!.queries.shape, [2, 3, 17, 64]);
  const rowSums = captured!.attention.sum(-1).toArray();
  assert.ok(rowSums.every((value) => Math.abs(value - 1) < 1e-5));
});
