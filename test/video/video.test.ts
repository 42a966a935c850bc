// Probing, decoding, clip sampling and the frame store, on real and generated videos.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { epochOrder } from "../../src/util/random.ts";
import { clipFrames, clipStarts, usedFrames } from "../../src/video/clips.ts";
import { decodeFrames, scaledSize } from "../../src/video/decode.ts";
import { FrameStore } from "../../src/video/frame_store.ts";
import { ClipSource } from "../../src/data/clip_source.ts";
import { probeVideo } from "../../src/video/probe.ts";
import { megamind, scratchDir, syntheticVideo, tree, vtest } from "../helpers/videos.ts";

const dir = scratchDir();

async function collect(frames: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const result: Uint8Array[] = [];
  for await (const frame of frames) result.push(frame);
  return result;
}

test("probe reads the opencv-doc videos", async () => {
  const info = await probeVideo(vtest);
  assert.deepEqual(
    {
      fps: info.fps,
      frameCount: info.frameCount,
      width: info.width,
      height: info.height,
      duration: info.duration,
    },
    { fps: 10, frameCount: 795, width: 768, height: 576, duration: 79.5 },
  );
  for (const video of [tree, megamind]) {
    const other = await probeVideo(video);
    assert.ok(other.frameCount > 100 && other.fps > 0 && other.width > 0, video);
  }
});

test("decoding yields every frame at the asked size, and seeking lands on the exact frame", async () => {
  const info = await probeVideo(vtest);
  const size = scaledSize(info.width, info.height, 48);
  assert.deepEqual(size, { width: 64, height: 48 });
  const all = await collect(decodeFrames(vtest, { ...size, fps: info.fps }));
  assert.equal(all.length, 795);
  assert.equal(all[0].length, 64 * 48 * 3);
  for (const start of [1, 137, 790]) {
    const [frame] = await collect(
      decodeFrames(vtest, { ...size, fps: info.fps, startFrame: start, frameCount: 1 }),
    );
    assert.deepEqual(frame, all[start], `frame ${start}`);
  }
  const selected = await collect(decodeFrames(vtest, { ...size, fps: info.fps, select: "lt(mod(n,60),8)" }));
  assert.equal(selected.length, 14 * 8);
  assert.deepEqual(selected[9], all[61]);
});

test("clip sampling as DoRA's loader: T frames a stride apart, n - T x stride starts, a seeded order per epoch", () => {
  const sampling = { clipLength: 8, frameStride: 2, clipSpacing: 60 };
  assert.deepEqual(clipStarts(200, sampling), [0, 60, 120, 180]);
  assert.deepEqual(clipFrames(180, sampling), [180, 182, 184, 186, 188, 190, 192, 194]);
  assert.deepEqual(clipStarts(197, sampling), [0, 60, 120, 180]);
  assert.deepEqual(clipStarts(196, sampling), [0, 60, 120], "DoRA's length: 196 - 16 = 180 starts below 180");
  // DoRA's own sampling: every frame starts a clip of 8 frames 60 apart.
  const official = { clipLength: 8, frameStride: 60, clipSpacing: 1 };
  const starts = clipStarts(1000, official);
  assert.equal(starts.length, 1000 - 8 * 60);
  assert.deepEqual(clipFrames(starts.at(-1)!, official), [519, 579, 639, 699, 759, 819, 879, 939]);
  assert.deepEqual(usedFrames(starts, official).length, 940, "frames 0 .. 939, each once");
  const order = epochOrder(50, 7, 0);
  assert.deepEqual(
    [...order].sort((a, b) => a - b),
    Array.from({ length: 50 }, (_, i) => i),
  );
  assert.deepEqual(epochOrder(50, 7, 0), order, "same seed and epoch, same order");
  assert.notDeepEqual(epochOrder(50, 7, 1), order, "a new epoch reshuffles");
  assert.notDeepEqual(epochOrder(50, 8, 0), order, "a new seed reshuffles");
  assert.throws(() => clipStarts(16, sampling), /has 16 frames, shorter than one clip \(17 frames\)/);
  assert.throws(
    () => clipStarts(100, { ...sampling, clipLength: 0 }),
    /clipLength must be a positive integer/,
  );
});

test("the frame store holds each used frame once, built by parallel workers in segments, and is reused", async () => {
  const info = await probeVideo(vtest);
  const size = scaledSize(info.width, info.height, 32);
  const all = await collect(decodeFrames(vtest, { ...size, fps: info.fps }));
  for (const sampling of [
    { clipLength: 8, frameStride: 1, clipSpacing: 60 }, // ffmpeg passes on only the used frames
    { clipLength: 4, frameStride: 3, clipSpacing: 7 }, // overlapping clips
    { clipLength: 8, frameStride: 60, clipSpacing: 1 }, // DoRA's: every frame, used by up to 8 clips
  ]) {
    let progress = 0;
    let planned = 0;
    const store = await FrameStore.open(vtest, {
      shortSide: 32,
      sampling,
      cacheRoot: join(dir, "cache"),
      workers: 3,
      segmentFrames: 100,
      onPlan: (plan) => (planned = plan.frames),
      onProgress: (done) => (progress = done),
    });
    const starts = clipStarts(795, sampling);
    const used = usedFrames(starts, sampling);
    assert.equal(store.clipCount, starts.length);
    assert.equal(store.frameCount, used.length);
    assert.equal(planned, used.length);
    assert.equal(progress, used.length);
    assert.equal(
      statSync(join(store.directory, "frames.u8")).size,
      used.length * store.frameBytes,
      "each frame once",
    );
    for (const clip of [0, 1, Math.floor(starts.length / 2), starts.length - 1]) {
      const frames = store.readClip(clip);
      clipFrames(starts[clip], sampling).forEach((frame, position) => {
        const stored = frames.subarray(position * store.frameBytes, (position + 1) * store.frameBytes);
        assert.deepEqual(stored, all[frame], `clip ${clip}, frame ${frame}`);
      });
    }
    const started = performance.now();
    const reopened = await FrameStore.open(vtest, { shortSide: 32, sampling, cacheRoot: join(dir, "cache") });
    assert.equal(reopened.directory, store.directory);
    assert.ok(performance.now() - started < 2000, "reopening must not decode again");
    assert.throws(() => store.readClip(starts.length), /does not exist/);
    store.close();
    reopened.close();
  }
});

test("a copy of the video at another path finds its store without ffmpeg; other content does not", async () => {
  const sampling = { clipLength: 4, frameStride: 2, clipSpacing: 8 };
  const cacheRoot = join(dir, "copied-cache");
  const original = syntheticVideo(join(dir, "original.mp4"), 40);
  const store = await FrameStore.open(original, { shortSide: 16, sampling, cacheRoot });
  store.close();
  // Another machine: the video copied to another folder, with no ffmpeg on PATH.
  mkdirSync(join(dir, "elsewhere"));
  const copy = join(dir, "elsewhere", "copy.mp4");
  copyFileSync(original, copy);
  const other = syntheticVideo(join(dir, "other.mp4"), 41);
  const path = process.env.PATH;
  process.env.PATH = join(dir, "no-programs");
  try {
    const found = await FrameStore.open(copy, { shortSide: 16, sampling, cacheRoot });
    assert.equal(found.directory, store.directory);
    found.close();
    await assert.rejects(
      FrameStore.open(other, { shortSide: 16, sampling, cacheRoot }),
      /ffprobe is not installed/,
    );
  } finally {
    process.env.PATH = path;
  }
});

test("frames that carry their index: a clip holds frames s, s + stride, ..., an epoch visits n - T x stride starts", async () => {
  // Each frame shows its index in binary, ten 8-pixel blocks, losslessly coded.
  const coded = join(dir, "coded.mp4");
  execFileSync("ffmpeg", [
    ...["-v", "error", "-y", "-f", "lavfi", "-i", "color=c=black:s=80x8:r=25", "-frames:v", "300"],
    ...["-vf", "format=gray,geq=lum='16+219*mod(floor(N/pow(2\\,floor(X/8)))\\,2)',format=yuv420p"],
    ...["-c:v", "libx264", "-qp", "0", coded],
  ]);
  const sampling = { clipLength: 4, frameStride: 30, clipSpacing: 1 };
  const store = await FrameStore.open(coded, {
    shortSide: 8,
    sampling,
    cacheRoot: join(dir, "coded-cache"),
    segmentFrames: 50,
  });
  const index = (frame: Uint8Array) =>
    Array.from({ length: 10 }, (_, bit) => (frame[(4 * 80 + bit * 8 + 4) * 3] > 128 ? 1 << bit : 0)).reduce(
      (a, b) => a + b,
    );
  assert.equal(store.clipCount, 300 - 4 * 30, "DoRA's dataset length");
  assert.equal(new ClipSource(store, 0).order(0).length, 300 - 4 * 30, "an epoch visits every start once");
  for (const clip of [0, 1, 77, 179]) {
    const frames = store.readClip(clip);
    const indices = Array.from({ length: 4 }, (_, t) =>
      index(frames.subarray(t * store.frameBytes, (t + 1) * store.frameBytes)),
    );
    assert.deepEqual(indices, [clip, clip + 30, clip + 60, clip + 90], `clip ${clip}`);
  }
  // Each used frame (0 .. 179 + 90) once: the bytes on disk are frames x bytes per frame.
  assert.equal(store.frameCount, 270);
  assert.equal(statSync(join(store.directory, "frames.u8")).size, 270 * 80 * 8 * 3);
  store.close();
});

test("a build that was stopped resumes at its first unfinished segment; a store that cannot fit is refused", async () => {
  const sampling = { clipLength: 8, frameStride: 60, clipSpacing: 1 };
  const cacheRoot = join(dir, "resumed");
  const options = { shortSide: 24, sampling, cacheRoot, workers: 1, segmentFrames: 100 };
  // The first build dies after 250 frames, as if killed: 2 of its 100-frame segments are done.
  await assert.rejects(
    FrameStore.open(vtest, {
      ...options,
      onProgress: (done) => {
        if (done === 250) throw new Error("killed");
      },
    }),
    /killed/,
  );
  let first = -1;
  const store = await FrameStore.open(vtest, {
    ...options,
    onProgress: (done) => {
      if (first < 0) first = done;
    },
  });
  assert.equal(first, 200, "the two finished segments are not decoded again");
  const info = await probeVideo(vtest);
  const all = await collect(
    decodeFrames(vtest, { ...scaledSize(info.width, info.height, 24), fps: info.fps }),
  );
  for (const frame of [0, 150, 250, 734])
    assert.deepEqual(store.readFrames([frame]), all[frame], `frame ${frame}`);
  store.close();
  // 795 frames at a short side of 100,000 pixels fit no disk.
  const huge = { shortSide: 100_000, sampling, cacheRoot: join(dir, "huge") };
  await assert.rejects(
    FrameStore.open(vtest, huge),
    /the frame store of .*vtest\.avi needs .* GB \(735 frames of \d+x100000\) and .* has .* free; lower --frame-short-side \(now 100000\) or give --cache-dir on a larger disk/,
  );
  assert.deepEqual(readdirSync(join(dir, "huge")), [], "nothing is left behind");
});

test("bad videos are one clear error each", async () => {
  const notVideo = join(dir, "notes.txt");
  writeFileSync(notVideo, "this is not a video\n");
  const empty = join(dir, "empty.mp4");
  writeFileSync(empty, "");
  const short = syntheticVideo(join(dir, "short.mp4"), 5);
  const sampling = { clipLength: 8, frameStride: 1, clipSpacing: 60 };
  const cacheRoot = join(dir, "bad-cache");
  await assert.rejects(probeVideo(join(dir, "missing.mp4")), /video not found: .*missing\.mp4/);
  await assert.rejects(probeVideo(dir), /is a directory, not a file/);
  await assert.rejects(probeVideo(empty), /is empty \(0 bytes\)/);
  await assert.rejects(probeVideo(notVideo), /is not a video ffmpeg can read/);
  await assert.rejects(
    FrameStore.open(short, { shortSide: 32, sampling, cacheRoot }),
    /has 5 frames, shorter than one clip \(9 frames\)/,
  );
  const locked = join(dir, "locked");
  mkdirSync(locked);
  chmodSync(locked, 0o500);
  const asRoot = process.getuid?.() === 0; // root writes anywhere: use a path under a file instead
  const unwritable = asRoot ? join(notVideo, "cache") : locked;
  await assert.rejects(
    FrameStore.open(vtest, { shortSide: 32, sampling, cacheRoot: unwritable }),
    /cannot write the frame store under .* set ONEVIDEO_CACHE or --cache-dir/,
  );
});
