// Weights in and out: safetensors both ways, torch.save files from python3-torch.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { maxAbsDiff, referenceDir, referencePython, runTorch } from "../helpers/python.ts";
import {
  loadPth,
  randn,
  readSafetensors,
  savePth,
  stateDictFrom,
  type Tensor,
  tensor,
  writeSafetensors,
} from "../../src/torch/index.ts";

const dir = mkdtempSync(join(tmpdir(), "onevideo-serial-"));

test("safetensors round-trips every dtype, shape and metadata", () => {
  const tensors = new Map<string, Tensor>([
    ["f32", randn([3, 4])],
    ["f16", randn([5]).to("float16")],
    ["bf16", randn([2, 2]).to("bfloat16")],
    ["f64", randn([2], { dtype: "float64" })],
    ["i64", tensor([1, -2, 3], { dtype: "int64" })],
    ["i32", tensor([7], { dtype: "int32" })],
    ["u8", tensor([255, 0], { dtype: "uint8" })],
    ["bool", tensor([true, false, true])],
    ["scalar", tensor(2.5, { shape: [] })],
    ["empty", randn([0, 3])],
  ]);
  const path = join(dir, "all.safetensors");
  writeSafetensors(path, tensors, { format: "pt" });
  const loaded = readSafetensors(path);
  assert.deepEqual(loaded.metadata, { format: "pt" });
  assert.deepEqual([...loaded.tensors.keys()], [...tensors.keys()]);
  for (const [name, original] of tensors) {
    const copy = loaded.tensors.get(name)!;
    assert.equal(copy.dtype, original.dtype, name);
    assert.deepEqual(copy.shape, original.shape, name);
    assert.deepEqual(copy.toArray(), original.toArray(), name);
  }
  // The header length keeps the data 8-byte aligned, as the format recommends.
  assert.equal(Number(readFileSync(path).readBigUInt64LE(0)) % 8, 0);
});

test("safetensors written here are read by the python reader and back", () => {
  const weights = new Map([
    ["w", randn([4, 3])],
    ["h", randn([2]).to("bfloat16")],
  ]);
  const back = runTorch("outputs['w2'] = inputs['w'] * 2\noutputs['h'] = inputs['h']", weights);
  assert.ok(maxAbsDiff(back.get("w2")!, weights.get("w")!.mul(2)) < 1e-7);
  assert.equal(back.get("h")!.dtype, "bfloat16");
});

test("corrupt safetensors files are clear errors", () => {
  const bad = join(dir, "bad.safetensors");
  writeFileSync(bad, Buffer.from([1, 2, 3]));
  assert.throws(() => readSafetensors(bad), /not a valid safetensors file: shorter/);
  const header = Buffer.from(JSON.stringify({ w: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  writeFileSync(bad, Buffer.concat([length, header, Buffer.alloc(8)]));
  assert.throws(() => readSafetensors(bad), /byte range \[0, 16\) outside the 8 data bytes/);
  writeFileSync(bad, Buffer.concat([length, Buffer.from("x".repeat(header.length)), Buffer.alloc(16)]));
  assert.throws(() => readSafetensors(bad), /header is not JSON/);
  assert.throws(() => readSafetensors(join(dir, "missing.safetensors")), /ENOENT/);
});

test("a state dict saved by python3-torch with torch.save loads with the same values", () => {
  const path = join(dir, "model.pth");
  execFileSync(
    referencePython,
    [
      "-c",
      `import torch, collections
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
import argparse
args = argparse.Namespace(arch="vit_small", patch_size=16, lr=0.0005)
checkpoint = {"teacher": collections.OrderedDict(("module." + k, v) for k, v in model.state_dict().items()), "epoch": 7, "name": "dino", "args": args, "shared": [model[0].weight, model[0].weight.t()], "half": model[0].bias.to(torch.bfloat16)}
torch.save(checkpoint, ${JSON.stringify(path)})
torch.save(model.state_dict(), ${JSON.stringify(path + ".plain")})
import safetensors_io
safetensors_io.save(model.state_dict(), ${JSON.stringify(path + ".safetensors")})`,
    ],
    { env: { ...process.env, PYTHONPATH: referenceDir } },
  );
  const expected = readSafetensors(`${path}.safetensors`).tensors;
  const checkpoint = loadPth(path) as Map<string, unknown>;
  assert.equal(checkpoint.get("epoch"), 7);
  assert.equal(checkpoint.get("name"), "dino");
  // Python objects come back as records of their state; nothing is executed.
  const args = checkpoint.get("args") as { className: string; state: Map<string, unknown> };
  assert.equal(args.className, "argparse.Namespace");
  assert.equal(args.state.get("arch"), "vit_small");
  assert.equal(args.state.get("lr"), 0.0005);
  // Views of one storage keep their strides.
  const [weight, transposed] = checkpoint.get("shared") as Tensor[];
  assert.deepEqual(transposed.shape, [4, 3]);
  assert.deepEqual(transposed.toArray(), weight.t().toArray());
  assert.equal((checkpoint.get("half") as Tensor).dtype, "bfloat16");
  const teacher = stateDictFrom(loadPth(path), { key: "teacher", stripPrefixes: ["module."] });
  const plain = stateDictFrom(loadPth(`${path}.plain`));
  assert.deepEqual([...teacher.keys()], [...expected.keys()]);
  for (const [name, value] of expected) {
    assert.deepEqual(teacher.get(name)!.toArray(), value.toArray(), name);
    assert.deepEqual(plain.get(name)!.toArray(), value.toArray(), name);
    assert.equal(plain.get(name)!.dtype, value.dtype);
  }
});

test("savePth writes what torch.load reads (weights_only=True), and loadPth reads it back", () => {
  const path = join(dir, "ours.pth");
  const state = new Map([
    ["a.weight", randn([2, 3])],
    ["half", randn([3]).to("bfloat16")],
    ["scalar", tensor(1.5, { shape: [] })],
    ["steps", tensor([5], { dtype: "int64" })],
  ]);
  savePth(path, state);
  const back = runTorch(
    `loaded = torch.load(${JSON.stringify(path)}, weights_only=True)\nfor k, v in loaded.items(): outputs[k] = v`,
    new Map(),
  );
  assert.deepEqual(back.get("a.weight")!.toArray(), state.get("a.weight")!.toArray());
  assert.deepEqual(back.get("steps")!.toArray(), [5]);
  assert.equal(back.get("half")!.dtype, "bfloat16");
  assert.deepEqual(back.get("scalar")!.shape, []);
  const ours = stateDictFrom(loadPth(path));
  assert.deepEqual(ours.get("a.weight")!.toArray(), state.get("a.weight")!.toArray());
});

test("corrupt or foreign .pth files are clear errors", () => {
  const bad = join(dir, "bad.pth");
  writeFileSync(bad, "not a checkpoint");
  assert.throws(() => loadPth(bad), /not a torch\.save file/);
  writeFileSync(bad, Buffer.concat([Buffer.from("PK\u0003\u0004"), Buffer.alloc(64)]));
  assert.throws(() => loadPth(bad), /could not be read as a torch\.save file: .*zip/);
  assert.throws(() => loadPth(join(dir, "missing.pth")), /cannot open/);
  assert.throws(() => stateDictFrom(new Map(), { key: "teacher" }), /no 'teacher' entry/);
});
