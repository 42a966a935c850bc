// Engine benchmark: one ViT-Tiny training step in onevideo and the same step in
// python3-torch, alternated in one run, plus the cost of one tiny operator call.
// Last line: {"vit_step_ms", "pytorch_step_ms", "ratio", "op_overhead_us"}.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createVit } from "../src/models/vit.ts";
import { Linear } from "../src/nn/index.ts";
import { AdamW } from "../src/optim/index.ts";
import {
  cuda,
  type Device,
  F,
  getNumThreads,
  manualSeed,
  randint,
  randn,
  scope,
  tensor,
} from "../src/torch/index.ts";
import { wholeNumber } from "./settings.ts";

const device = process.env.BENCH_DEVICE ?? "cpu";
const config = {
  imageSize: 64,
  patchSize: 8,
  dim: 192,
  depth: 6,
  heads: 3,
  batch: 32,
  classes: 10,
  threads: getNumThreads(),
  device,
};
const rounds = wholeNumber("BENCH_ROUNDS", 5);
const stepsPerRound = wholeNumber("BENCH_STEPS", 5);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

manualSeed(0);
const model = createVit("vit_tiny", {
  imageSize: config.imageSize,
  patchSize: config.patchSize,
  embedDim: config.dim,
  depth: config.depth,
  numHeads: config.heads,
});
const head = new Linear(config.dim, config.classes);
const optimizer = new AdamW([...model.parameters(), ...head.parameters()], { lr: 1e-4 });
model.to(device as Device);
head.to(device as Device);
const images = randn([config.batch, 3, config.imageSize, config.imageSize]).to(device as Device);
const labels = randint(0, config.classes, [config.batch]).to(device as Device);

function trainStep(): void {
  scope(() => {
    const { cls } = model.forward(images);
    const loss = F.crossEntropy(head.forward(cls), labels);
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
  });
}

function timeSteps(count: number): number {
  const start = performance.now();
  for (let i = 0; i < count; i++) trainStep();
  cuda.synchronize();
  return (performance.now() - start) / count;
}

const worker = spawn(
  process.env.ONEVIDEO_REFERENCE_PYTHON ?? "/usr/bin/python3",
  [fileURLToPath(new URL("reference/vit_step_worker.py", import.meta.url)), JSON.stringify(config)],
  {
    stdio: ["pipe", "pipe", "inherit"],
  },
);
const replies = createInterface({ input: worker.stdout })[Symbol.asyncIterator]();
async function ask(request: string): Promise<Record<string, number>> {
  if (request) worker.stdin.write(`${request}\n`);
  const { value, done } = await replies.next();
  if (done) throw new Error("the python3-torch worker ended early (is python3-torch installed?)");
  return JSON.parse(value);
}

await ask("");
console.log(`config: ${JSON.stringify(config)}`);
timeSteps(2);
await ask("run 2");
const ours: number[] = [];
const theirs: number[] = [];
let pytorchPeak = 0;
for (let round = 0; round < rounds; round++) {
  ours.push(timeSteps(stepsPerRound));
  const reply = await ask(`run ${stepsPerRound}`);
  theirs.push(reply.step_ms);
  pytorchPeak = reply.peak_rss_mb;
  console.log(
    `round ${round + 1}/${rounds}: onevideo ${ours.at(-1)!.toFixed(1)} ms/step, pytorch ${reply.step_ms.toFixed(1)} ms/step`,
  );
}
worker.stdin.end();

const tiny = tensor([1]);
const calls = 100_000;
const start = performance.now();
for (let i = 0; i < calls; i++) tiny.add(tiny).dispose();
const opOverheadUs = ((performance.now() - start) * 1000) / calls;

const vitStepMs = median(ours);
const pytorchStepMs = median(theirs);
const peakRssMb = process.resourceUsage().maxRSS / 1024;
console.log(`peak RSS: onevideo ${peakRssMb.toFixed(0)} MB, pytorch ${pytorchPeak.toFixed(0)} MB`);
console.log(
  JSON.stringify({
    vit_step_ms: +vitStepMs.toFixed(2),
    pytorch_step_ms: +pytorchStepMs.toFixed(2),
    ratio: +(vitStepMs / pytorchStepMs).toFixed(3),
    op_overhead_us: +opOverheadUs.toFixed(2),
  }),
);
