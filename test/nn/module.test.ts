// Modules: PyTorch key names, state dict loading, layers against python3-torch.
import assert from "node:assert/strict";
import { test } from "node:test";
import { maxAbsDiff, runTorch } from "../helpers/python.ts";
import {
  BatchNorm2d,
  Conv2d,
  Linear,
  Module,
  ModuleList,
  ReLU,
  Sequential,
  WeightNormLinear,
} from "../../src/nn/index.ts";
import { manualSeed, randn, type Tensor } from "../../src/torch/index.ts";

class Net extends Module {
  readonly features = this.addModule(
    "features",
    new Sequential([new Conv2d(3, 4, 3, { padding: 1 }), new BatchNorm2d(4), new ReLU()]),
  );
  readonly heads = this.addModule("heads", new ModuleList([new Linear(4, 2), new WeightNormLinear(4, 5)]));
}

test("parameters and buffers carry PyTorch's dotted names", () => {
  const net = new Net();
  assert.deepEqual(
    [...net.stateDict().keys()],
    [
      "features.0.weight",
      "features.0.bias",
      "features.1.weight",
      "features.1.bias",
      "heads.0.weight",
      "heads.0.bias",
      "heads.1.weight_g",
      "heads.1.weight_v",
      "features.1.running_mean",
      "features.1.running_var",
      "features.1.num_batches_tracked",
    ],
  );
  assert.equal(net.parameters().length, 8);
  assert.equal(net.parameterCount(), 4 * 3 * 9 + 4 + 4 + 4 + 8 + 2 + 5 + 20);
});

test("loadStateDict copies values, keeps tensor identity, and reports key mismatches", () => {
  const source = new Net();
  const target = new Net();
  const weightBefore = target.heads.items[0].parameters()[0];
  target.loadStateDict(source.stateDict());
  assert.equal(target.heads.items[0].parameters()[0], weightBefore);
  assert.deepEqual(weightBefore.toArray(), source.heads.items[0].parameters()[0].toArray());

  const partial = new Map(source.stateDict());
  partial.delete("heads.0.bias");
  partial.set("extra.weight", randn([1]));
  assert.throws(
    () => target.loadStateDict(partial),
    /missing keys: heads\.0\.bias; unexpected keys: extra\.weight/,
  );
  const report = target.loadStateDict(partial, { strict: false });
  assert.deepEqual(report, { missingKeys: ["heads.0.bias"], unexpectedKeys: ["extra.weight"] });

  const wrongShape = new Map(source.stateDict());
  wrongShape.set("heads.0.weight", randn([3, 4]));
  assert.throws(
    () => target.loadStateDict(wrongShape),
    /'heads\.0\.weight' has shape \[3,4\], the model expects \[2,4\]/,
  );
});

test("train/eval reaches every submodule", () => {
  const net = new Net().eval();
  assert.equal(net.features.items[1].training, false);
  net.train();
  assert.equal(net.features.items[1].training, true);
});

test("layers compute what torch.nn computes, running statistics included", () => {
  manualSeed(3);
  const net = new Net();
  const input = randn([2, 3, 5, 5]);
  const features = net.features.forward(input); // training mode: updates running stats
  const pooled = features.mean([2, 3]);
  const linear = net.heads.items[0] as Linear;
  const weightNorm = net.heads.items[1] as WeightNormLinear;
  const ours = new Map<string, Tensor>([
    ["features", features],
    ["linear", linear.forward(pooled)],
    ["weight_norm", weightNorm.forward(pooled)],
  ]);
  const inputs = new Map<string, Tensor>([["input", input]]);
  // The python side starts from the initial running statistics (0 and 1).
  for (const [name, tensor] of net.stateDict()) {
    if (name === "features.1.running_mean") inputs.set(name, tensor.mul(0));
    else if (name === "features.1.running_var") inputs.set(name, tensor.mul(0).add(1));
    else if (name === "features.1.num_batches_tracked") inputs.set(name, tensor.mul(0));
    else inputs.set(name, tensor.detach());
  }
  const reference = runTorch(
    `
import torch.nn as nn
net = nn.Module()
net.features = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())
net.heads = nn.ModuleList([nn.Linear(4, 2), nn.utils.weight_norm(nn.Linear(4, 5, bias=False))])
net.load_state_dict({k: v for k, v in inputs.items() if k != "input"})
features = net.features(inputs["input"])
pooled = features.mean((2, 3))
outputs["features"] = features.detach()
outputs["linear"] = net.heads[0](pooled).detach()
outputs["weight_norm"] = net.heads[1](pooled).detach()
outputs["running_mean"] = net.features[1].running_mean
outputs["running_var"] = net.features[1].running_var
`,
    inputs,
  );
  for (const [name, tensor] of ours) assert.ok(maxAbsDiff(tensor, reference.get(name)!) < 1e-5, name);
  const batchNorm = net.features.items[1] as BatchNorm2d;
  assert.ok(maxAbsDiff(batchNorm.runningMean, reference.get("running_mean")!) < 1e-6);
  assert.ok(maxAbsDiff(batchNorm.runningVar, reference.get("running_var")!) < 1e-6);
  assert.equal(batchNorm.numBatchesTracked.item(), 1);
});

test("Module.to casts parameters in place and leaves integer buffers alone", () => {
  const net = new Net();
  const weight = net.parameters()[0];
  net.to("float64");
  assert.equal(weight.dtype, "float64");
  assert.equal(weight.requiresGrad, true);
  assert.equal((net.features.items[1] as BatchNorm2d).numBatchesTracked.dtype, "int64");
});

test("Module.freeze_: no parameter takes gradients, and the module is in evaluation mode", () => {
  const layer = new Linear(3, 2);
  assert.equal(layer.freeze_(), layer);
  assert.ok(layer.parameters().every((parameter) => !parameter.requiresGrad));
  assert.equal(layer.training, false);
});
