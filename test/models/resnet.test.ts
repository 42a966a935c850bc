// The ResNets against torchvision's (python3-torchvision): names, shapes and counts, weights
// loading both ways, and the same numbers forward (eval and train) and backward.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { maxAbsDiff, runTorch } from "../helpers/python.ts";
import { createResNet, type ResNet, type ResNetArchitecture } from "../../src/models/resnet.ts";
import { BatchNorm2d } from "../../src/nn/index.ts";
import { loadPth, manualSeed, noGrad, randn, stateDictFrom, type Tensor } from "../../src/torch/index.ts";

/** Largest difference relative to the reference's largest magnitude. */
function relativeDiff(actual: Tensor, expected: Tensor): number {
  const scale = expected.toArray().reduce((largest, value) => Math.max(largest, Math.abs(value)), 0);
  return maxAbsDiff(actual, expected) / (scale || 1);
}

function assertClose(actual: Tensor, expected: Tensor, tolerance: number, what: string): void {
  const difference = relativeDiff(actual, expected);
  assert.ok(difference < tolerance, `${what}: relative difference ${difference.toExponential(2)}`);
}

/** Random running statistics and affine parameters, so that eval-mode BN is not near the identity. */
function randomiseBatchNorms(model: ResNet): void {
  noGrad(() => {
    for (const [, module] of model.namedModules()) {
      if (!(module instanceof BatchNorm2d)) continue;
      module.runningMean.uniform_(-0.1, 0.1);
      module.runningVar.uniform_(0.5, 1.5);
      module.weight.uniform_(0.5, 1.5);
      module.bias.uniform_(-0.1, 0.1);
      module.numBatchesTracked.fill_(7);
    }
  });
}

test("parameter names, shapes, counts and zero-init residuals equal torchvision's", () => {
  const architectures: ResNetArchitecture[] = ["resnet18", "resnet34", "resnet50", "resnet101"];
  const reference = runTorch(
    `
import torchvision
for arch in ${JSON.stringify(architectures)}:
    model = getattr(torchvision.models, arch)(zero_init_residual=True)
    for name, value in model.state_dict().items():
        outputs[arch + "/" + name] = torch.tensor(list(value.shape), dtype=torch.int64)
        if name.endswith(".weight") and value.dim() == 1:
            outputs[arch + "/zero/" + name] = (value == 0).all().long().reshape(1)
    outputs[arch + "#count"] = torch.tensor([sum(p.numel() for p in model.parameters())])
`,
    new Map(),
  );
  const expectedCounts = {
    resnet18: 11_689_512,
    resnet34: 21_797_672,
    resnet50: 25_557_032,
    resnet101: 44_549_160,
  };
  for (const architecture of architectures) {
    const model = createResNet(architecture, { numClasses: 1000, zeroInitResidual: true });
    const ours = new Map([...model.stateDict()].map(([name, tensor]) => [name, tensor.shape.join("x")]));
    const theirs = new Map<string, string>();
    for (const [key, shape] of reference) {
      if (key.startsWith(`${architecture}/`) && !key.includes("/zero/")) {
        theirs.set(key.slice(architecture.length + 1), shape.toArray().join("x"));
      }
    }
    assert.deepEqual(
      new Map([...ours].sort()),
      new Map([...theirs].sort()),
      `${architecture} names and shapes`,
    );
    assert.equal(model.parameterCount(), reference.get(`${architecture}#count`)!.item());
    assert.equal(model.parameterCount(), expectedCounts[architecture]);
    for (const [name, tensor] of model.namedParameters()) {
      const zero = reference.get(`${architecture}/zero/${name}`);
      if (!zero) continue;
      const oursZero = tensor.toArray().every((value) => value === 0);
      assert.equal(oursZero, zero.item() === 1, `${architecture} ${name} zero-initialised`);
    }
    if (architecture === "resnet18" || architecture === "resnet50") {
      const backbone = createResNet(architecture);
      assert.equal(backbone.fc, null);
      assert.ok(![...backbone.stateDict().keys()].some((key) => key.startsWith("fc.")));
    }
  }
});

test("convolutions are He-normal with fan_out (torchvision's init); BNs start at weight 1, bias 0", () => {
  manualSeed(3);
  const model = createResNet("resnet50");
  // layer4.0.conv3 is 512 -> 2048, 1x1: fan_out 2048 and fan_in 512 give stds 0.031 and 0.0625.
  const weight = model.layer4.stateDict().get("0.conv3.weight")!;
  const std = weight.std().item();
  assert.ok(Math.abs(std - Math.sqrt(2 / 2048)) < 0.02 * Math.sqrt(2 / 2048), `std ${std}`);
  assert.ok(Math.abs(weight.mean().item()) < 1e-3);
  assert.ok(model.bn1.weight.toArray().every((value) => value === 1));
  assert.ok(model.bn1.bias.toArray().every((value) => value === 0));
});

test("torchvision's resnet18 .pth loads into ours: same C2..C5, pooled feature and logits (eval), same train step", () => {
  const dir = mkdtempSync(join(tmpdir(), "onevideo-resnet-"));
  try {
    const path = join(dir, "resnet18.pth");
    const reference = runTorch(
      `
import torchvision
torch.manual_seed(0)
model = torchvision.models.resnet18()
with torch.no_grad():
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
            module.weight.uniform_(0.5, 1.5)
            module.bias.uniform_(-0.1, 0.1)
            module.num_batches_tracked.fill_(7)
torch.save(model.state_dict(), ${JSON.stringify(path)})
x = torch.randn(2, 3, 64, 64)
outputs["x"] = x
model.eval()
with torch.no_grad():
    x1 = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    c2 = model.layer1(x1); c3 = model.layer2(c2); c4 = model.layer3(c3); c5 = model.layer4(c4)
    for name, value in (("c2", c2), ("c3", c3), ("c4", c4), ("c5", c5)):
        outputs[name] = value
    outputs["pooled"] = model.avgpool(c5).flatten(1)
    outputs["logits"] = model(x)
model.train()
c5 = model.layer4(model.layer3(model.layer2(model.layer1(model.maxpool(model.relu(model.bn1(model.conv1(x))))))))
outputs["train_c5"] = c5.detach()
weights = torch.randn(c5.shape)
outputs["weights"] = weights
(c5 * weights).sum().backward()
for name, parameter in model.named_parameters():
    if parameter.grad is not None:
        outputs["grad." + name] = parameter.grad
for name, value in model.state_dict().items():
    if "running" in name or "num_batches" in name:
        outputs["after." + name] = value
`,
      new Map(),
    );
    const model = createResNet("resnet18", { numClasses: 1000 });
    model.loadStateDict(stateDictFrom(loadPth(path)));
    const x = reference.get("x")!;
    model.eval();
    noGrad(() => {
      const features = model.forward(x);
      for (const name of ["c2", "c3", "c4", "c5"] as const) {
        assertClose(features[name], reference.get(name)!, 1e-4, `eval ${name}`);
      }
      assertClose(model.pool(features.c5), reference.get("pooled")!, 1e-4, "pooled");
      assertClose(model.globalFeatures(x), reference.get("pooled")!, 1e-4, "globalFeatures");
      assertClose(model.classify(x), reference.get("logits")!, 1e-4, "logits");
    });

    model.train();
    const { c5 } = model.forward(x);
    assertClose(c5, reference.get("train_c5")!, 1e-4, "train c5");
    c5.mul(reference.get("weights")!).sum().backward();
    for (const [name, parameter] of model.namedParameters()) {
      const expected = reference.get(`grad.${name}`);
      if (name.startsWith("fc.")) {
        assert.equal(parameter.grad, null, "fc takes no part in C5");
        continue;
      }
      assert.ok(parameter.grad && expected, `${name} has a gradient`);
      assert.ok(expected.abs().max().item() > 0, `${name}'s reference gradient is not zero`);
      assertClose(parameter.grad, expected, 1e-3, `grad ${name}`);
    }
    for (const [name, buffer] of model.namedBuffers()) {
      assertClose(buffer, reference.get(`after.${name}`)!, 1e-4, `after the train forward: ${name}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("our resnet50 loads strictly into torchvision's: same C5, pooled feature and logits (eval), same BN statistics after a train forward", () => {
  manualSeed(11);
  const model = createResNet("resnet50", { numClasses: 1000 });
  randomiseBatchNorms(model);
  const x = randn([2, 3, 64, 64]);
  const inputs = new Map<string, Tensor>([["x", x]]);
  for (const [name, tensor] of model.stateDict()) inputs.set(`model.${name}`, tensor.detach());
  const reference = runTorch(
    `
import torchvision
model = torchvision.models.resnet50()
model.load_state_dict({k[6:]: v for k, v in inputs.items() if k.startswith("model.")}, strict=True)
x = inputs["x"]
model.eval()
with torch.no_grad():
    c5 = model.layer4(model.layer3(model.layer2(model.layer1(model.maxpool(model.relu(model.bn1(model.conv1(x))))))))
    outputs["c5"] = c5
    outputs["pooled"] = model.avgpool(c5).flatten(1)
    outputs["logits"] = model(x)
    model.train()
    outputs["train_logits"] = model(x)
for name, value in model.state_dict().items():
    if "running" in name or "num_batches" in name:
        outputs["after." + name] = value
`,
    inputs,
  );
  model.eval();
  noGrad(() => {
    const { c5 } = model.forward(x);
    assertClose(c5, reference.get("c5")!, 1e-4, "eval c5");
    assertClose(model.pool(c5), reference.get("pooled")!, 1e-4, "pooled");
    assertClose(model.classify(x), reference.get("logits")!, 1e-4, "logits");
    model.train();
    assertClose(model.classify(x), reference.get("train_logits")!, 1e-4, "train logits");
  });
  let buffers = 0;
  for (const [name, buffer] of model.namedBuffers()) {
    assertClose(buffer, reference.get(`after.${name}`)!, 1e-4, `after the train forward: ${name}`);
    buffers++;
  }
  assert.equal(buffers, 53 * 3);
});
