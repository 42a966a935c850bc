// DoRA's training step against DINO's on the same frames: the demo's ViT-Tiny/8 at 64 px,
// 2 local crops, a batch of 4 clips x 8 frames (DINO sees the 32 frames as samples).
// Goal: DoRA <= 1.6x DINO per clip. Last line: {"dino_ms", "dora_ms", "ratio"}.
import { demoOptions } from "../src/pretrain/demo.ts";
import { Random } from "../src/util/random.ts";
import { dinoConfigSchema, DinoMethod } from "../src/methods/dino.ts";
import { doraConfigSchema, DoraMethod } from "../src/methods/dora.ts";
import type { TrainableMethod } from "../src/train/method.ts";
import { manualSeed, rand, scope } from "../src/torch/index.ts";
import { wholeNumber } from "./settings.ts";

const rounds = wholeNumber("BENCH_ROUNDS", 3);
const steps = wholeNumber("BENCH_STEPS", 5);
const clips = 4;
const frames = 8;
const { video, method: _dino, ...recipe } = demoOptions;
const shared = { ...recipe, video, clipLength: frames, batchSize: clips };

manualSeed(0);
const methods: [string, TrainableMethod][] = [
  ["dino", new DinoMethod(dinoConfigSchema.parse(shared))],
  ["dora", new DoraMethod(doraConfigSchema.parse({ ...shared, localCrops: recipe.localCrops }))],
];
const images = rand([clips * frames, 3, 74, 98]);
const random = new Random(0);

/** Milliseconds per step (forward, loss and backward), after one warm-up step. */
function time(method: TrainableMethod): number {
  const step = () =>
    scope(() => {
      const { loss } = method.step(images, { random, epoch: 1 });
      loss.backward();
      method.student.zeroGrad();
    });
  step();
  const started = performance.now();
  for (let i = 0; i < steps; i++) step();
  return (performance.now() - started) / steps;
}

const totals = { dino: 0, dora: 0 };
for (let round = 1; round <= rounds; round++) {
  const figures = methods.map(([name, method]) => {
    const ms = time(method);
    totals[name as "dino" | "dora"] += ms;
    return `${name} ${ms.toFixed(0)} ms/step`;
  });
  console.log(`round ${round}/${rounds}: ${figures.join(", ")} (${clips} clips x ${frames} frames)`);
}
const dino = totals.dino / rounds;
const dora = totals.dora / rounds;
console.log(
  JSON.stringify({ dino_ms: +dino.toFixed(1), dora_ms: +dora.toFixed(1), ratio: +(dora / dino).toFixed(3) }),
);
