// Encoders for evaluation load from onevideo weights and from DINO/DoRA-style .pth files,
// with the architecture read off the weights.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadEncoder } from "../../src/eval/encoder.ts";
import { createVit } from "../../src/models/vit.ts";
import { InputError } from "../../src/errors.ts";
import { manualSeed, noGrad, randn, writeSafetensors } from "../../src/torch/index.ts";
import { maxAbsDiff, runTorch } from "../helpers/python.ts";
import { scratchDir } from "../helpers/videos.ts";

const dir = scratchDir();
manualSeed(3);
const model = createVit("vit_tiny", { patchSize: 8, imageSize: 32 });
model.eval();
const images = randn([2, 3, 32, 32]);
const expected = noGrad(() => model.forward(images).cls);

test("a DINO training checkpoint (.pth): the teacher's backbone, module./backbone. prefixes, no head", () => {
  const path = join(dir, "dino.pth");
  const inputs = new Map([...model.stateDict()].map(([name, tensor]) => [name, tensor]));
  runTorch(
    `
teacher = {"module.backbone." + k: v for k, v in inputs.items()}
teacher["module.head.last_layer.weight_g"] = torch.ones(16, 1)
student = {k: torch.zeros_like(v) for k, v in teacher.items()}
torch.save({"student": student, "teacher": teacher, "epoch": 3}, ${JSON.stringify(path)})
`,
    inputs,
  );
  const encoder = loadEncoder(path);
  assert.equal(encoder.architecture, "vit_tiny");
  assert.equal(encoder.patchSize, 8);
  assert.equal(encoder.backbone.config.imageSize, 32);
  const cls = noGrad(() => encoder.backbone.forward(images).cls);
  assert.ok(maxAbsDiff(cls, expected) < 1e-6);
});

test("exported weights.safetensors and a run folder holding them", () => {
  const run = join(dir, "run");
  mkdirSync(run);
  writeSafetensors(join(run, "weights.safetensors"), model.stateDict());
  for (const path of [run, join(run, "weights.safetensors")]) {
    const cls = noGrad(() => loadEncoder(path).backbone.forward(images).cls);
    assert.ok(maxAbsDiff(cls, expected) < 1e-6);
  }
});

test("bad checkpoints are one clear error each", () => {
  const empty = join(dir, "empty");
  mkdirSync(empty);
  assert.throws(() => loadEncoder(join(dir, "missing.pth")), /checkpoint not found/);
  assert.throws(() => loadEncoder(empty), /neither weights.safetensors nor a checkpoint/);
  const narrow = createVit("vit_tiny", { patchSize: 8, imageSize: 32, embedDim: 48, numHeads: 3, depth: 1 });
  writeSafetensors(join(dir, "narrow.safetensors"), narrow.stateDict());
  assert.throws(() => loadEncoder(join(dir, "narrow.safetensors")), /width 48/);
  const shallow = createVit("vit_tiny", { patchSize: 8, imageSize: 32, depth: 2 });
  writeSafetensors(join(dir, "shallow.safetensors"), shallow.stateDict());
  // Width and depth together name the architecture (ViT-Nano and ViT-Tiny share a width).
  assert.throws(
    () => loadEncoder(join(dir, "shallow.safetensors")),
    (error) => error instanceof InputError && /width 192 and depth 2 is not one/.test(error.message),
  );
  const nano = createVit("vit_nano", { patchSize: 8, imageSize: 32 });
  writeSafetensors(join(dir, "nano.safetensors"), nano.stateDict());
  assert.equal(loadEncoder(join(dir, "nano.safetensors")).backbone.config.depth, 4);
});
