// Does a short run learn? Trains a method on a video, then scores its teacher by k-NN on
// Fashion-MNIST against the same network untrained (same seed, no step taken). The GPU check's
// learning figure; on the CPU it runs at whatever size the environment gives.
//
//   BENCH_VIDEO=<file> npm run bench:learning      (or BENCH_DATASET=fashion-mnist)
//
// Environment: BENCH_METHOD (dora), BENCH_ARCH (vit_small), BENCH_PATCH (16), BENCH_IMAGE
// (224), BENCH_BATCH (frames per step, DoRA's official 16), BENCH_STEPS (200), BENCH_DEVICE
// (cuda when available, else cpu), BENCH_PRECISION (bf16 on CUDA, fp32 on the CPU), BENCH_SEED
// (0), BENCH_KNN_TRAIN (10000) and BENCH_KNN_TEST (2000) images, BENCH_OPTIONS (a JSON object
// of further method options, e.g. '{"frameStride": 8}'), BENCH_OUT (the run folder; default a
// temporary one). Prints one JSON line last: k-NN top-1 at k = 20 before and after, the loss,
// steps per second. BENCH_PREPARE_ONLY=1 only builds the video's frame store.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { evaluateKnn } from "../src/eval/knn_evaluation.ts";
import { pretrain, resolveConfig } from "../src/pretrain/pretrain.ts";
import { methodEntry } from "../src/pretrain/registry.ts";
import { openSource } from "../src/pretrain/sources.ts";
import { writeUntrainedNetwork } from "../src/pretrain/untrained.ts";
import { cuda } from "../src/torch/index.ts";
import { wholeNumber } from "./settings.ts";

const env = process.env;
const video = env.BENCH_VIDEO;
const dataset = env.BENCH_DATASET;
if (!video === !dataset) {
  console.error(
    "learning_check: set BENCH_VIDEO to the video to train on (e.g. a tour's tour.mp4), or BENCH_DATASET=fashion-mnist",
  );
  process.exit(2);
}
const device = env.BENCH_DEVICE ?? (cuda.isAvailable() ? "cuda" : "cpu");
const work = mkdtempSync(join(tmpdir(), "onevideo-learning-"));
const options = {
  method: env.BENCH_METHOD ?? "dora",
  ...(video ? { video } : { dataset }),
  arch: env.BENCH_ARCH ?? "vit_small",
  patchSize: wholeNumber("BENCH_PATCH", 16),
  imageSize: wholeNumber("BENCH_IMAGE", 224),
  batchSize: wholeNumber("BENCH_BATCH", 16),
  steps: wholeNumber("BENCH_STEPS", 200),
  device,
  precision: env.BENCH_PRECISION ?? (device === "cpu" ? "fp32" : "bf16"),
  seed: wholeNumber("BENCH_SEED", 0, 0),
  logEvery: 10,
  ...(JSON.parse(env.BENCH_OPTIONS ?? "{}") as Record<string, unknown>),
  out: env.BENCH_OUT ?? join(work, "run"),
};
const knn = (checkpoint: string) =>
  evaluateKnn({
    checkpoint,
    dataset: "fashion-mnist",
    trainLimit: wholeNumber("BENCH_KNN_TRAIN", 10000),
    testLimit: wholeNumber("BENCH_KNN_TEST", 2000),
    imageSize: options.imageSize,
    k: 20,
    device,
  }).results[0].top1;

const config = resolveConfig(options);
if (env.BENCH_PREPARE_ONLY) {
  // Only the frame store, for a machine without ffmpeg (the GPU check's prepare step).
  (await openSource(config, methodEntry(config.method).readsClips(config))).close();
  process.exit(0);
}

const before = knn(writeUntrainedNetwork(config, join(work, "untrained")));

const started = performance.now();
const run = await pretrain(options);
const seconds = (performance.now() - started) / 1000;
const after = knn(run.runDir);
console.log(
  JSON.stringify({
    method: config.method,
    arch: config.arch,
    image_size: config.imageSize,
    batch: config.batchSize,
    steps: run.steps,
    device,
    knn_top1_untrained: before,
    knn_top1_trained: after,
    knn_gain: +(after - before).toFixed(2),
    first_loss: +run.firstLoss.toFixed(4),
    last_loss: +run.lastLoss.toFixed(4),
    train_seconds: +seconds.toFixed(1),
    steps_per_s: +(run.steps / seconds).toFixed(3),
    run: run.runDir,
  }),
);
