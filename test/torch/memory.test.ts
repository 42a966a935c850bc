// Training must not depend on the garbage collector: thousands of steps, flat memory.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Linear, ReLU, Sequential } from "../../src/nn/index.ts";
import { AdamW, clipGradNorm } from "../../src/optim/index.ts";
import { F, randint, randn, scope } from "../../src/torch/index.ts";
import { native } from "../../src/torch/native.ts";

test("2,000 training steps keep RSS flat and leave no tensor behind", () => {
  const model = new Sequential([new Linear(256, 512), new ReLU(), new Linear(512, 10)]);
  const optimizer = new AdamW(model.parameters(), { lr: 1e-3 });
  const inputs = randn([64, 256]);
  const labels = randint(0, 10, [64]);
  const step = () =>
    scope(() => {
      optimizer.zeroGrad();
      const loss = F.crossEntropy(model.forward(inputs), labels);
      loss.backward();
      clipGradNorm(model.parameters(), 1);
      optimizer.step();
      return loss.item();
    });
  // RSS is sampled every 20 steps and compared by medians, so that a passing allocator
  // spike is not taken for growth while a leak, which raises every sample, is caught.
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
  const warmupSamples: number[] = [];
  const finalSamples: number[] = [];
  let liveAfterWarmup = 0;
  let lastLoss = Number.NaN;
  for (let i = 0; i < 2000; i++) {
    lastLoss = step();
    if (i === 499) liveAfterWarmup = native.liveTensors();
    if (i % 20 === 19 && i >= 300 && i < 500) warmupSamples.push(process.memoryUsage().rss);
    if (i % 20 === 19 && i >= 1800) finalSamples.push(process.memoryUsage().rss);
  }
  const growth = median(finalSamples) / median(warmupSamples) - 1;
  assert.equal(native.liveTensors(), liveAfterWarmup, "tensors leaked across steps");
  assert.ok(growth < 0.05, `RSS grew by ${(growth * 100).toFixed(1)}% from steps 300-500 to steps 1800-2000`);
  assert.ok(lastLoss < 0.1, `the model should fit a fixed batch, loss ${lastLoss}`);
});
