// Optimizers, clipping and schedules against python3-torch and closed forms.
import assert from "node:assert/strict";
import { test } from "node:test";
import { maxAbsDiff, runTorch } from "../helpers/python.ts";
import { AdamW, clipGradNorm, clipGradNormPerParameter, cosineSchedule, SGD } from "../../src/optim/index.ts";
import { manualSeed, randn, scope, type Tensor, tensor } from "../../src/torch/index.ts";

/** Runs 5 steps of loss = sum(sin(p) * target) with our optimizer; returns the parameters. */
function optimize(
  makeOptimizer: (params: Tensor[]) => { step(): void; zeroGrad(): void },
  start: Tensor[],
  target: Tensor,
) {
  const params = start.map((t) => t.clone().requiresGrad_());
  const optimizer = makeOptimizer(params);
  for (let i = 0; i < 5; i++) {
    scope(() => {
      optimizer.zeroGrad();
      params
        .reduce(
          (total, p) =>
            total.add(
              p
                .sin()
                .mul(target.narrow(0, 0, p.size(0)))
                .sum(),
            ),
          randn([]).mul(0),
        )
        .backward();
      optimizer.step();
    });
  }
  return params;
}

test("AdamW and SGD (momentum, Nesterov, weight decay) match torch.optim over 5 steps", () => {
  manualSeed(5);
  const start = [randn([4]), randn([3])];
  const target = randn([4]);
  const results = new Map<string, Tensor[]>([
    [
      "adamw",
      optimize(
        (p) =>
          new AdamW([{ params: [p[0]] }, { params: [p[1]], weightDecay: 0 }], { lr: 0.1, weightDecay: 0.05 }),
        start,
        target,
      ),
    ],
    ["sgd", optimize((p) => new SGD(p, { lr: 0.1, momentum: 0.9, weightDecay: 0.01 }), start, target)],
    ["nesterov", optimize((p) => new SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true }), start, target)],
  ]);
  const reference = runTorch(
    `
def run(make):
    params = [inputs["p0"].clone().requires_grad_(), inputs["p1"].clone().requires_grad_()]
    optimizer = make(params)
    for _ in range(5):
        optimizer.zero_grad()
        sum((p.sin() * inputs["target"][: p.shape[0]]).sum() for p in params).backward()
        optimizer.step()
    return params
for name, make in [
    ("adamw", lambda p: torch.optim.AdamW([{"params": [p[0]]}, {"params": [p[1]], "weight_decay": 0}], lr=0.1, weight_decay=0.05)),
    ("sgd", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01)),
    ("nesterov", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
]:
    for i, p in enumerate(run(make)):
        outputs[f"{name}_{i}"] = p.detach()
`,
    new Map([
      ["p0", start[0]],
      ["p1", start[1]],
      ["target", target],
    ]),
  );
  for (const [name, params] of results) {
    params.forEach((p, i) =>
      assert.ok(maxAbsDiff(p, reference.get(`${name}_${i}`)!) < 1e-6, `${name} parameter ${i}`),
    );
  }
});

test("optimizer state survives a state-dict round trip", () => {
  manualSeed(6);
  const start = [randn([4])];
  const target = randn([4]);
  const straight = optimize((p) => new AdamW(p, { lr: 0.05 }), start, target);
  // Five steps again, but the optimizer is rebuilt from a saved state after two.
  const params = start.map((t) => t.clone().requiresGrad_());
  let optimizer = new AdamW(params, { lr: 0.05 });
  const stepOnce = () =>
    scope(() => {
      optimizer.zeroGrad();
      params[0].sin().mul(target).sum().backward();
      optimizer.step();
    });
  stepOnce();
  stepOnce();
  const saved = optimizer.stateDict();
  optimizer = new AdamW(params, { lr: 0.05 });
  optimizer.loadStateDict(saved);
  for (let i = 0; i < 3; i++) stepOnce();
  assert.ok(maxAbsDiff(params[0], straight[0]) < 1e-7);
  assert.equal(optimizer.stepCount, 5);
});

test("bad optimizer settings are clear errors", () => {
  assert.throws(() => new AdamW([randn([1])], { lr: -1 }), /lr must be >= 0/);
  assert.throws(() => new AdamW([randn([1])], { beta1: 1 }), /betas must lie in \[0, 1\)/);
  assert.throws(() => new SGD([randn([1])], { nesterov: true }), /Nesterov momentum needs momentum > 0/);
});

test("clipGradNorm scales all gradients to the joint norm", () => {
  const a = randn([3]).requiresGrad_();
  const b = randn([4]).requiresGrad_();
  a.mul(3).sum().add(b.mul(4).sum()).backward(); // grads: all 3s and all 4s
  const norm = clipGradNorm([a, b], 1);
  assert.ok(Math.abs(norm - Math.sqrt(3 * 9 + 4 * 16)) < 1e-5);
  const clipped = Math.hypot(...a.grad!.toArray(), ...b.grad!.toArray());
  assert.ok(Math.abs(clipped - 1) < 1e-5);
  // Below the limit nothing changes.
  assert.ok(Math.abs(clipGradNorm([a, b], 100) - 1) < 1e-5);
  assert.ok(Math.abs(Math.hypot(...a.grad!.toArray(), ...b.grad!.toArray()) - 1) < 1e-5);
});

test("cosineSchedule: linear warm-up, then the closed-form half cosine", () => {
  const schedule = cosineSchedule({
    base: 1,
    final: 0.1,
    epochs: 10,
    itersPerEpoch: 10,
    warmupEpochs: 2,
    warmupStart: 0,
  });
  assert.equal(schedule.length, 100);
  assert.equal(schedule[0], 0);
  assert.ok(Math.abs(schedule[10] - 10 / 19) < 1e-12);
  assert.equal(schedule[19], 1);
  assert.equal(schedule[20], 1);
  for (const i of [20, 37, 60, 99]) {
    const expected = 0.1 + 0.45 * (1 + Math.cos((Math.PI * (i - 20)) / 80));
    assert.ok(Math.abs(schedule[i] - expected) < 1e-12, `iteration ${i}`);
  }
  assert.throws(
    () => cosineSchedule({ base: 1, final: 0, epochs: 1, itersPerEpoch: 5, warmupEpochs: 2 }),
    /warm-up/,
  );
});

test("clipGradNormPerParameter clips each gradient to its own norm, as DINO", () => {
  const big = tensor([3, 4], { requiresGrad: true }); // gradient norm 5 after the backward below
  const small = tensor([0.3, 0.4], { requiresGrad: true }); // norm 0.5: below the bound, untouched
  big
    .mul(tensor([3, 4]))
    .sum()
    .add(small.mul(tensor([0.3, 0.4])).sum())
    .backward();
  clipGradNormPerParameter([big, small], 1);
  const clipped = big.grad!.toArray();
  const scale = 1 / (5 + 1e-6);
  assert.ok(Math.abs(clipped[0] - 3 * scale) < 1e-6 && Math.abs(clipped[1] - 4 * scale) < 1e-6);
  assert.deepEqual(
    small.grad!.toArray().map((v) => +v.toFixed(6)),
    [0.3, 0.4],
  );
});
