// DINO's pieces: loss against hand-computed values, centring, collapse signals, EMA, head.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DinoLoss } from "../../src/methods/dino_loss.ts";
import { updateTeacher } from "../../src/train/ema.ts";
import { DinoHead, dinoHeadConfig } from "../../src/models/dino_head.ts";
import { Linear } from "../../src/nn/index.ts";
import type { DinoMethod } from "../../src/methods/dino.ts";
import { resolveConfig } from "../../src/pretrain/pretrain.ts";
import { methodEntry } from "../../src/pretrain/registry.ts";
import { manualSeed, rand, randn, type Tensor, tensor } from "../../src/torch/index.ts";
import { prepareTraining, trainStep } from "../../src/train/trainer.ts";

const softmax = (row: number[]) => {
  const max = Math.max(...row);
  const exps = row.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b);
  return exps.map((v) => v / sum);
};

test("the DINO loss equals the hand-computed cross-entropy over view pairs", () => {
  const teacher = [
    [
      [1, 0, -1],
      [0.5, 0.2, 0.1],
    ],
    [
      [0, 2, 0],
      [-1, 0, 1],
    ],
  ];
  const student = [
    [
      [0.3, 0.1, 0],
      [1, 1, 0],
    ],
    [
      [0, 0, 2],
      [0.2, -0.4, 0.9],
    ],
    [
      [1, -1, 0.5],
      [0, 0, 0],
    ],
  ];
  const center = [0.1, -0.2, 0.05];
  const teacherTemperature = 0.04;
  const studentTemperature = 0.1;
  let expected = 0;
  let pairs = 0;
  teacher.forEach((view, t) =>
    student.forEach((studentView, s) => {
      if (s === t) return;
      let sum = 0;
      view.forEach((row, b) => {
        const p = softmax(row.map((v, k) => (v - center[k]) / teacherTemperature));
        const q = softmax(studentView[b].map((v) => v / studentTemperature));
        sum += -p.reduce((acc, pk, k) => acc + pk * Math.log(q[k]), 0);
      });
      expected += sum / view.length;
      pairs++;
    }),
  );
  expected /= pairs;
  const loss = new DinoLoss({ outDim: 3, studentTemperature, centerMomentum: 0.9 });
  loss.center.copy_(tensor([center]));
  const value = loss
    .forward(
      student.map((v) => tensor(v)),
      teacher.map((v) => tensor(v)),
      teacherTemperature,
    )
    .item();
  assert.equal(pairs, 4);
  assert.ok(Math.abs(value - expected) < 1e-5, `${value} vs ${expected}`);
});

test("the centre moves by its momentum towards the teacher's batch mean", () => {
  const loss = new DinoLoss({ outDim: 2, studentTemperature: 0.1, centerMomentum: 0.9 });
  loss.center.copy_(tensor([[1, 1]]));
  loss.updateCenter([
    tensor([
      [0, 2],
      [2, 4],
    ]),
    tensor([
      [4, 6],
      [6, 8],
    ]),
  ]);
  // batch mean = [3, 5]; centre = 0.9 * [1, 1] + 0.1 * [3, 5]
  const [a, b] = loss.center.toArray();
  assert.ok(Math.abs(a - 1.2) < 1e-6 && Math.abs(b - 1.4) < 1e-6);
});

test("collapse signals: uniform outputs have full entropy, one-prototype outputs full KL", () => {
  const loss = new DinoLoss({ outDim: 4, studentTemperature: 0.1, centerMomentum: 0.9 });
  const uniform = loss.collapseSignals(
    [
      tensor([
        [0, 0, 0, 0],
        [1, 1, 1, 1],
      ]),
    ],
    0.04,
  );
  assert.ok(Math.abs(uniform.teacherEntropy.item() - Math.log(4)) < 1e-5);
  assert.ok(Math.abs(uniform.teacherKlToUniform.item()) < 1e-5);
  const collapsed = loss.collapseSignals(
    [
      tensor([
        [9, 0, 0, 0],
        [9, 0, 0, 0],
      ]),
    ],
    0.04,
  );
  assert.ok(collapsed.teacherEntropy.item() < 1e-3);
  assert.ok(Math.abs(collapsed.teacherKlToUniform.item() - Math.log(4)) < 1e-3);
});

test("the EMA teacher moves (1 - m) of the way to the student", () => {
  const student = new Linear(3, 2);
  const teacher = new Linear(3, 2);
  const before = teacher.weight.toArray();
  updateTeacher(teacher, student, 0.996);
  const after = teacher.weight.toArray();
  student.weight
    .toArray()
    .forEach((s, i) => assert.ok(Math.abs(after[i] - (0.996 * before[i] + 0.004 * s)) < 1e-7));
});

test("the DINO head has DINO's names, a frozen unit weight norm, and normalised bottleneck features", () => {
  const head = new DinoHead(dinoHeadConfig(16, { outDim: 32, hiddenDim: 24, bottleneckDim: 8 }));
  const shapes = Object.fromEntries([...head.stateDict()].map(([name, t]) => [name, t.shape.join("x")]));
  assert.deepEqual(shapes, {
    "mlp.0.weight": "24x16",
    "mlp.0.bias": "24",
    "mlp.2.weight": "24x24",
    "mlp.2.bias": "24",
    "mlp.4.weight": "8x24",
    "mlp.4.bias": "8",
    "last_layer.weight_g": "32x1",
    "last_layer.weight_v": "32x8",
  });
  assert.equal(head.lastLayer.weightG.requiresGrad, false);
  assert.deepEqual(head.lastLayer.weightG.toArray(), new Array(32).fill(1));
  // With unit weight norms and unit-norm inputs, every output is a cosine in [-1, 1].
  const outputs = head.forward(randn([5, 16])).toArray();
  assert.ok(outputs.every((v) => Math.abs(v) <= 1 + 1e-5));
  const trainable = new DinoHead(dinoHeadConfig(16, { outDim: 32, normLastLayer: false }));
  assert.equal(trainable.lastLayer.weightG.requiresGrad, true);
});

test("trainStep: the head's last layer stays fixed through --freeze-last-layer-epochs, then trains", () => {
  const config = resolveConfig({
    method: "dino",
    arch: "vit_tiny",
    patchSize: 8,
    imageSize: 16,
    localCrops: 0,
    outDim: 32,
    headHiddenDim: 32,
    bottleneckDim: 16,
    batchSize: 2,
    warmupEpochs: 0,
    freezeLastLayerEpochs: 1,
  });
  manualSeed(0);
  const method = methodEntry("dino").create(config) as DinoMethod;
  const training = prepareTraining({
    method,
    settings: config,
    itersPerEpoch: 2,
    totalIters: 8,
    device: "cpu",
  });
  const images = rand([2, 3, 20, 20]);
  const snapshot = () => new Map([...method.student.stateDict()].map(([name, t]) => [name, t.clone()]));
  const changed = (before: Map<string, Tensor>) =>
    [...method.student.stateDict()]
      .filter(([name, t]) => t.sub(before.get(name)!).abs().max().item() > 0)
      .map(([name]) => name);
  const lastLayer = ["head.last_layer.weight_g", "head.last_layer.weight_v"];
  const first = snapshot();
  trainStep(training, images, 0, config.clipGrad); // epoch 0: the last layer is held
  const inFirstEpoch = changed(first);
  assert.ok(inFirstEpoch.includes("backbone.blocks.0.attn.qkv.weight"), "the backbone trains");
  for (const name of lastLayer) assert.ok(!inFirstEpoch.includes(name), `${name} held in epoch 0`);
  const second = snapshot();
  trainStep(training, images, 2, config.clipGrad); // epoch 1
  for (const name of lastLayer) assert.ok(changed(second).includes(name), `${name} trains in epoch 1`);
});
