// VADeR's training step at the demo preset (ResNet-18 + FPN at 64 px, 16 images, 32 pairs
// each, queue 4096), and ResNet-50 at the same size, against the same step in
// python3-torch (torchvision's ResNet, the reference FPN) measured in the same run.
// Our step includes rendering both views and their photometric augmentation; the
// reference gets its views ready-made, so the ratio is an upper bound on engine overhead.
// BENCH_ROUNDS (3) and BENCH_STEPS (5) size it. Last line: one JSON object per backbone.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Random } from "../src/util/random.ts";
import { vader, VaderMethod, type VaderConfig, vaderConfigSchema } from "../src/methods/vader.ts";
import { getNumThreads, manualSeed, rand, scope } from "../src/torch/index.ts";
import { wholeNumber } from "./settings.ts";

const rounds = wholeNumber("BENCH_ROUNDS", 3);
const steps = wholeNumber("BENCH_STEPS", 5);
const results: Record<string, unknown>[] = [];

for (const arch of ["resnet18", "resnet50"]) {
  const config: VaderConfig = vaderConfigSchema.parse({ ...vader.presets.demo, arch });
  manualSeed(0);
  const method = new VaderMethod(config);
  const images = rand([config.batchSize, 3, 74, 98]);
  const random = new Random(0);
  const step = () =>
    scope(() => {
      const { loss } = method.step(images, { random, epoch: 0 });
      loss.backward();
      method.student.zeroGrad();
    });
  const worker = spawn(
    process.env.ONEVIDEO_REFERENCE_PYTHON ?? "/usr/bin/python3",
    [
      fileURLToPath(new URL("reference/vader_step_worker.py", import.meta.url)),
      JSON.stringify({
        arch,
        threads: getNumThreads(),
        imageSize: config.imageSize,
        batch: config.batchSize,
        pairs: config.pairsPerImage,
        embeddingDim: config.embeddingDim,
        queueLength: config.queueLength,
      }),
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const replies = createInterface({ input: worker.stdout })[Symbol.asyncIterator]();
  const ask = async (request: string) => {
    if (request) worker.stdin.write(`${request}\n`);
    const { value, done } = await replies.next();
    if (done)
      throw new Error("the python3-torch worker ended early (are python3-torch and torchvision installed?)");
    return JSON.parse(value) as Record<string, number>;
  };
  await ask("");
  step();
  await ask("run 1");
  let ours = 0;
  let reference = 0;
  for (let round = 1; round <= rounds; round++) {
    const started = performance.now();
    for (let i = 0; i < steps; i++) step();
    const oursMs = (performance.now() - started) / steps;
    const referenceMs = (await ask(`run ${steps}`)).step_ms;
    ours += oursMs;
    reference += referenceMs;
    console.log(
      `${arch} round ${round}/${rounds}: onevideo ${oursMs.toFixed(0)} ms/step, python3-torch ${referenceMs.toFixed(0)} ms/step`,
    );
  }
  worker.stdin.end();
  const oursMs = ours / rounds;
  const referenceMs = reference / rounds;
  results.push({
    arch,
    images: config.batchSize,
    image_size: config.imageSize,
    onevideo_ms: +oursMs.toFixed(1),
    pytorch_ms: +referenceMs.toFixed(1),
    ratio: +(oursMs / referenceMs).toFixed(3),
    images_per_s: +((config.batchSize * 1000) / oursMs).toFixed(1),
  });
}
console.log(JSON.stringify(results));
