// The run folder: exported weights say what network they hold, a run stopped before its export
// is read from its newest checkpoint, and folders in the layout written before the weights
// carried their metadata (files as that code wrote them) still load, to the same features.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadDenseFeatures } from "../../src/eval/dense_features.ts";
import { loadEncoder } from "../../src/eval/encoder.ts";
import { denseEncoder } from "../../src/models/dense.ts";
import { readModelMetadata, vitMetadata } from "../../src/models/model_metadata.ts";
import { createVit } from "../../src/models/vit.ts";
import type { Module } from "../../src/nn/index.ts";
import {
  manualSeed,
  noGrad,
  randn,
  readSafetensors,
  type Tensor,
  writeSafetensors,
} from "../../src/torch/index.ts";
import { checkpointExportsEntry, RunFolder } from "../../src/train/run_folder.ts";
import { maxAbsDiff } from "../helpers/python.ts";
import { scratchDir } from "../helpers/videos.ts";

const dir = scratchDir();
manualSeed(5);
const vit = createVit("vit_tiny", { patchSize: 8, imageSize: 32 }).eval();
const dense = denseEncoder({ backbone: "resnet18", embeddingDim: 8, decoderWidth: 16 }).eval();
const images = randn([1, 3, 32, 32]);
const expectedCls = noGrad(() => vit.forward(images).cls);
const expectedCells = noGrad(() => dense.forward(images).flatten(2).transpose(1, 2));
const denseModel = { kind: "dense", backbone: "resnet18", embeddingDim: 8, decoderWidth: 16 } as const;

const prefixed = (prefix: string, module: Module): [string, Tensor][] =>
  [...module.stateDict()].map(([name, tensor]) => [`${prefix}${name}`, tensor]);

/** A checkpoint as the trainer writes it: latest.json naming step-N.safetensors (tensors only matter here). */
function writeCheckpoint(run: RunFolder, tensors: [string, Tensor][], metadata: Record<string, string> = {}) {
  mkdirSync(run.checkpointsDir, { recursive: true });
  const checkpoint = run.checkpointPath(4);
  writeSafetensors(`${checkpoint}.safetensors`, tensors, metadata);
  writeFileSync(`${checkpoint}.json`, "{}");
  run.commitCheckpoint(checkpoint);
}

test("exported weights carry their network's metadata and load without the training options", () => {
  const run = new RunFolder(join(dir, "new"));
  mkdirSync(run.path, { recursive: true });
  run.writeExports({ backbone: { module: vit, model: vitMetadata(vit, "vit_tiny") } });
  const { metadata } = readSafetensors(run.weightsPath);
  assert.deepEqual(readModelMetadata(metadata), {
    kind: "vit",
    architecture: "vit_tiny",
    patchSize: 8,
    imageSize: 32,
    embedDim: 192,
    depth: 12,
    numHeads: 3,
  });
  assert.equal(
    maxAbsDiff(
      noGrad(() => loadEncoder(run.path).backbone.forward(images).cls),
      expectedCls,
    ),
    0,
  );
  // A ViT run has no dense encoder: its dense features are the patch tokens.
  assert.equal(loadDenseFeatures(run.path).patchSize, 8);
});

test("a run stopped before its export is read from the newest checkpoint, where its metadata says", () => {
  // VADeR's teacher is the dense encoder itself; its backbone is the part weights.safetensors holds.
  const run = new RunFolder(join(dir, "stopped"));
  const exports = {
    backbone: { module: dense.backbone, model: { kind: "resnet", architecture: "resnet18" } as const },
    dense: { module: dense, model: denseModel },
  };
  writeCheckpoint(run, prefixed("teacher.", dense), checkpointExportsEntry(dense, exports));
  const cells = noGrad(() => loadDenseFeatures(run.path).cells(images));
  assert.equal(maxAbsDiff(cells, expectedCells), 0);
  assert.throws(() => loadEncoder(run.path), /holds a ResNet \(a VADeR run\)/);
});

test("run folders of the earlier layout load to the same features", () => {
  // DINO, finished: weights.safetensors without model metadata (the shape is read off the tensors).
  const dino = new RunFolder(join(dir, "legacy-dino"));
  mkdirSync(dino.path, { recursive: true });
  writeSafetensors(dino.weightsPath, vit.stateDict(), { format: "pt", source: "onevideo teacher backbone" });
  assert.equal(
    maxAbsDiff(
      noGrad(() => loadEncoder(dino.path).backbone.forward(images).cls),
      expectedCls,
    ),
    0,
  );

  // DINO, stopped early: a checkpoint without the exports record holds teacher.backbone.*.
  const stopped = new RunFolder(join(dir, "legacy-dino-stopped"));
  writeCheckpoint(stopped, prefixed("teacher.backbone.", vit));
  const cls = noGrad(() => loadEncoder(stopped.path).backbone.forward(images).cls);
  assert.equal(maxAbsDiff(cls, expectedCls), 0);

  // VADeR, finished: dense.safetensors with the whole training config under its old key.
  const legacyConfig = {
    method: "vader",
    arch: "resnet18",
    embeddingDim: 8,
    decoderWidth: 16,
    freezeLastLayerEpochs: 0,
  };
  const vader = new RunFolder(join(dir, "legacy-vader"));
  mkdirSync(vader.path, { recursive: true });
  writeFileSync(vader.configPath, JSON.stringify({ ...legacyConfig, worldSize: 1 }));
  const { method: _method, ...stored } = legacyConfig;
  writeSafetensors(vader.densePath, dense.stateDict(), { onevideo_vader_config: JSON.stringify(stored) });
  writeSafetensors(vader.weightsPath, dense.backbone.stateDict(), { format: "pt" });
  for (const path of [vader.path, vader.densePath]) {
    assert.equal(
      maxAbsDiff(
        noGrad(() => loadDenseFeatures(path).cells(images)),
        expectedCells,
      ),
      0,
      path,
    );
  }

  // VADeR, stopped early: teacher.* in the checkpoint, its shape in config.json.
  const vaderStopped = new RunFolder(join(dir, "legacy-vader-stopped"));
  mkdirSync(vaderStopped.path, { recursive: true });
  writeFileSync(vaderStopped.configPath, JSON.stringify({ ...legacyConfig, worldSize: 1 }));
  writeCheckpoint(vaderStopped, prefixed("teacher.", dense));
  const cells = noGrad(() => loadDenseFeatures(vaderStopped.path).cells(images));
  assert.equal(maxAbsDiff(cells, expectedCells), 0);
});

test("an empty folder is one line", () => {
  const empty = join(dir, "empty");
  mkdirSync(empty);
  assert.throws(() => loadEncoder(empty), /neither weights.safetensors nor a checkpoint; train it first/);
});

test("evaluation reads the newest intact checkpoint: a damaged or half-written newer one is passed over with a line", () => {
  const run = new RunFolder(join(dir, "damaged"));
  mkdirSync(run.checkpointsDir, { recursive: true });
  const other = createVit("vit_tiny", { patchSize: 8, imageSize: 32 });
  const write = (step: number, model: Module) => {
    const checkpoint = run.checkpointPath(step);
    const sha256 = writeSafetensors(`${checkpoint}.safetensors`, prefixed("teacher.backbone.", model));
    writeFileSync(`${checkpoint}.json`, JSON.stringify({ sha256 }));
  };
  write(2, vit);
  write(4, other);
  write(6, other);
  const bytes = readFileSync(`${run.checkpointPath(4)}.safetensors`);
  bytes[bytes.length - 1] ^= 1;
  writeFileSync(`${run.checkpointPath(4)}.safetensors`, bytes);
  writeFileSync(`${run.checkpointPath(6)}.json`, '{"sha256": "ab'); // cut short
  const notes: string[] = [];
  assert.equal(
    run.latestCheckpoint((line) => notes.push(line)),
    run.checkpointPath(2),
  );
  assert.equal(notes.length, 1);
  assert.match(
    notes[0],
    /^checkpoint step-00000006 is damaged \(step-00000006\.json does not read: .*\); checkpoint step-00000004 is damaged \(step-00000004\.safetensors does not match its checksum\); using step-00000002, the newest intact checkpoint$/,
  );
  const written: string[] = [];
  const original = process.stderr.write;
  process.stderr.write = ((chunk: string) => written.push(chunk) > 0) as typeof process.stderr.write;
  try {
    const cls = noGrad(() => loadEncoder(run.path).backbone.forward(images).cls);
    assert.equal(maxAbsDiff(cls, expectedCls), 0);
  } finally {
    process.stderr.write = original;
  }
  assert.equal(written.length, 1);
  assert.match(written[0], /^onevideo: checkpoint step-00000006 is damaged .* using step-00000002/);
});
