// Operators and their gradients against python3-torch on identical inputs.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runTorch, maxAbsDiff } from "../helpers/python.ts";
import { einsum, F, grad, manualSeed, randint, randn, type Tensor } from "../../src/torch/index.ts";

manualSeed(1);
const x = randn([2, 3, 6, 6], { requiresGrad: true });
const a = randn([4, 5], { requiresGrad: true });
const b = randn([5, 3], { requiresGrad: true });
const weight = randn([4, 3, 3, 3], { requiresGrad: true });
const bias = randn([4], { requiresGrad: true });
const gamma = randn([6], { requiresGrad: true });
const beta = randn([6], { requiresGrad: true });
const logits = randn([5, 7], { requiresGrad: true });
const labels = randint(0, 7, [5]);
const index = randint(0, 4, [3, 5]);
const q = randn([2, 4, 8], { requiresGrad: true });
const k = randn([2, 5, 8], { requiresGrad: true });

// Each case: our output, and the python expression for the same output.
const cases: [string, () => Tensor, string][] = [
  ["matmul", () => a.matmul(b), "a @ b"],
  ["softmax", () => x.softmax(-1), "x.softmax(-1)"],
  ["layer_norm", () => F.layerNorm(x, [6], gamma, beta, 1e-5), "F.layer_norm(x, [6], gamma, beta, 1e-5)"],
  [
    "conv2d",
    () => F.conv2d(x, weight, bias, { stride: 2, padding: 1 }),
    "F.conv2d(x, weight, bias, stride=2, padding=1)",
  ],
  [
    "interpolate_bilinear",
    () => F.interpolate(x, { size: [9, 11], mode: "bilinear" }),
    "F.interpolate(x, size=(9, 11), mode='bilinear', align_corners=False)",
  ],
  [
    "interpolate_bicubic",
    () => F.interpolate(x, { scaleFactor: [1.5, 2.1], mode: "bicubic" }),
    "F.interpolate(x, scale_factor=(1.5, 2.1), mode='bicubic')",
  ],
  ["cross_entropy", () => F.crossEntropy(logits, labels), "F.cross_entropy(logits, labels)"],
  ["einsum", () => einsum("bqd,bkd->bqk", q, k), "torch.einsum('bqd,bkd->bqk', q, k)"],
  ["gather", () => a.gather(0, index), "a.gather(0, index)"],
  ["logsumexp", () => logits.logsumexp(1), "logits.logsumexp(1)"],
  ["normalize", () => F.normalize(q, 2, -1), "F.normalize(q, p=2, dim=-1)"],
  ["gelu", () => F.gelu(a), "F.gelu(a)"],
];

const leaves: Record<string, Tensor> = { x, a, b, weight, bias, gamma, beta, logits, q, k };
const inputs = new Map<string, Tensor>([
  ...Object.entries(leaves).map(([name, t]) => [name, t.detach()] as [string, Tensor]),
  ["labels", labels],
  ["index", index],
]);
// A fixed random cotangent per case turns each output into a scalar loss.
const ours = new Map<string, { output: Tensor; grads: Map<string, Tensor> }>();
for (const [name, run] of cases) {
  const output = run();
  const cotangent = randn(output.shape as number[]);
  inputs.set(`cot_${name}`, cotangent);
  const expression = cases.find(([n]) => n === name)![2];
  const used = Object.entries(leaves).filter(([leaf]) => new RegExp(`\\b${leaf}\\b`).test(expression));
  const grads = grad(
    [output.mul(cotangent).sum()],
    used.map(([, t]) => t),
    { allowUnused: true },
  );
  ours.set(name, {
    output: output.detach(),
    grads: new Map(used.map(([leaf], i) => [leaf, grads[i]!] as [string, Tensor])),
  });
}

const script = `
import re
leaves = ${JSON.stringify(Object.keys(leaves))}
for name in leaves:
    inputs[name].requires_grad_(True)
globals().update(inputs)
cases = ${JSON.stringify(cases.map(([name, , expression]) => [name, expression]))}
for name, expression in cases:
    out = eval(expression)
    outputs["out_" + name] = out.detach()
    used = [leaf for leaf in leaves if re.search(r"\\b" + leaf + r"\\b", expression)]
    grads = torch.autograd.grad((out * inputs["cot_" + name]).sum(), [inputs[l] for l in used])
    for leaf, g in zip(used, grads):
        outputs["grad_" + name + "_" + leaf] = g
`;
const reference = runTorch(script, inputs);

for (const [name] of cases) {
  test(`${name} matches python3-torch, value and gradient`, () => {
    const mine = ours.get(name)!;
    assert.ok(maxAbsDiff(mine.output, reference.get(`out_${name}`)!) < 1e-5, `${name} output`);
    for (const [leaf, g] of mine.grads) {
      const difference = maxAbsDiff(g, reference.get(`grad_${name}_${leaf}`)!);
      assert.ok(difference < 1e-4, `${name} gradient w.r.t. ${leaf} differs by ${difference}`);
    }
  });
}
