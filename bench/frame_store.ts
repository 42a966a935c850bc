// The frame store and the loader behind DoRA's official sampling, on a generated 1080p H.264
// video: how fast the store is decoded (frames/s, all cores), what a frame takes on disk, and
// how fast one core reads clips back and makes DoRA's views, set against a DoRA step on the
// CPU (the loader's share of it) and against what one GPU step consumes.
//
//   npm run bench:frame-store
//
// Environment: BENCH_MINUTES (60: the video's length; a 1-hour store at 300 px takes about
// 52 GB), BENCH_SIDE (the store's short side, 300: DoRA's first crop at 224), BENCH_CLIPS (2
// clips of 8 frames per loader batch and CPU step), BENCH_ARCH (vit_small), BENCH_WORK (the
// folder for the video and the store, default /tmp/onevideo-bench), BENCH_GPU_FRAMES_PER_S
// (798.8: DoRA's frames per second on an H100 from bench:gpu, to compare against).
// The loader runs on one thread, as a data-loading worker would: figures are per core.
// Last line: one JSON object.
process.env.ONEVIDEO_THREADS ??= "1";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { ClipSource } from "../src/data/clip_source.ts";
import type { DoraMethod } from "../src/methods/dora.ts";
import { resolveConfig } from "../src/pretrain/pretrain.ts";
import { methodEntry } from "../src/pretrain/registry.ts";
import { manualSeed, scope } from "../src/torch/index.ts";
import { prepareTraining, trainStep } from "../src/train/trainer.ts";
import { Random } from "../src/util/random.ts";
import { FrameStore } from "../src/video/frame_store.ts";
import { positiveNumber, wholeNumber } from "./settings.ts";

const env = process.env;
const minutes = positiveNumber("BENCH_MINUTES", 60);
const side = wholeNumber("BENCH_SIDE", 300);
const clips = wholeNumber("BENCH_CLIPS", 2);
const arch = env.BENCH_ARCH ?? "vit_small";
const work = env.BENCH_WORK ?? "/tmp/onevideo-bench";
const gpuFramesPerSecond = positiveNumber("BENCH_GPU_FRAMES_PER_S", 798.8);
mkdirSync(work, { recursive: true });

const video = join(work, `testsrc2-1080p-${minutes}min.mp4`);
if (!existsSync(video)) {
  console.log(`generating ${minutes} minutes of 1080p30 H.264 (${video})`);
  const started = performance.now();
  execFileSync("ffmpeg", [
    ...["-v", "error", "-f", "lavfi", "-i", `testsrc2=size=1920x1080:rate=30`, "-t", String(minutes * 60)],
    ...["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", `${video}.partial.mp4`],
  ]);
  execFileSync("mv", [`${video}.partial.mp4`, video]);
  console.log(`generated in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

// The store, decoded from scratch with DoRA's sampling.
const cacheRoot = join(work, "store");
rmSync(cacheRoot, { recursive: true, force: true });
const sampling = { clipLength: 8, frameStride: 60, clipSpacing: 1 };
const decodeStarted = performance.now();
const store = await FrameStore.open(video, { shortSide: side, sampling, cacheRoot });
const decodeSeconds = (performance.now() - decodeStarted) / 1000;
const storeBytes = statSync(join(store.directory, "frames.u8")).size;
const bytesPerFrame = storeBytes / store.frameCount;
console.log(
  `store: ${store.frameCount} frames of ${store.width}x${store.height} in ${decodeSeconds.toFixed(1)} s ` +
    `(${(store.frameCount / decodeSeconds).toFixed(0)} frames/s), ${(bytesPerFrame / 1e6).toFixed(3)} MB a frame, ` +
    `${(storeBytes / 1e9).toFixed(2)} GB in all`,
);

// One core reading batches of clips, then making DoRA's views of them.
const config = resolveConfig({ method: "dora", video, arch, batchSize: clips, frameShortSide: side });
manualSeed(0);
const method = methodEntry("dora").create(config) as DoraMethod;
const source = new ClipSource(store, 0);
const order = source.order(0);
const random = new Random(0);
const framesPerBatch = clips * config.clipLength;
const rounds = 10;
let readMs = 0;
let viewMs = 0;
for (let round = 0; round < rounds; round++) {
  const indices = order.slice(round * clips, (round + 1) * clips);
  scope(() => {
    const started = performance.now();
    const images = source.batch(indices, "cpu");
    const read = performance.now();
    method.clipViews(images, random);
    readMs += read - started;
    viewMs += performance.now() - read;
  });
}
const readFramesPerSecond = (rounds * framesPerBatch * 1000) / readMs;
const viewFramesPerSecond = (rounds * framesPerBatch * 1000) / viewMs;

// The CPU step those batches feed (after one warm-up step).
const training = prepareTraining({
  method,
  settings: config,
  itersPerEpoch: 1000,
  totalIters: 100_000,
  device: "cpu",
});
const images = source.batch(order.slice(0, clips), "cpu");
trainStep(training, images, 1000, config.clipGrad);
const stepStarted = performance.now();
const steps = 2;
for (let i = 0; i < steps; i++) trainStep(training, images, 1001 + i, config.clipGrad);
const stepMs = (performance.now() - stepStarted) / steps;
const readShare = readMs / rounds / stepMs;
console.log(
  `loader, one core: reads ${readFramesPerSecond.toFixed(0)} frames/s, DoRA's views ${viewFramesPerSecond.toFixed(0)} frames/s; ` +
    `a ${arch} DoRA step of ${framesPerBatch} frames on the CPU takes ${stepMs.toFixed(0)} ms, the read ${(readShare * 100).toFixed(2)}% of it; ` +
    `one GPU step consumes ${gpuFramesPerSecond} frames/s`,
);
source.close();
console.log(
  JSON.stringify({
    minutes,
    frames: store.frameCount,
    width: store.width,
    height: store.height,
    decode_frames_per_s: +(store.frameCount / decodeSeconds).toFixed(1),
    bytes_per_frame: Math.round(bytesPerFrame),
    store_gb: +(storeBytes / 1e9).toFixed(3),
    read_frames_per_s_per_core: +readFramesPerSecond.toFixed(1),
    views_frames_per_s_per_core: +viewFramesPerSecond.toFixed(1),
    cpu_step_ms: +stepMs.toFixed(1),
    read_share_of_cpu_step: +readShare.toFixed(4),
    gpu_step_frames_per_s: gpuFramesPerSecond,
  }),
);
