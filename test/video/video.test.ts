// Probing, decoding, clip sampling and the frame cache, on real and generated videos.
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { epochOrder } from "../../src/util/random.ts";
import { clipFrames, clipStarts } from "../../src/video/clips.ts";
import { decodeFrames, scaledSize } from "../../src/video/decode.ts";
import { FrameCache } from "../../src/video/frame_cache.ts";
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

test("clip sampling: starts every S frames, clips inside the video, a seeded order per epoch", () => {
  const sampling = { clipLength: 8, frameStride: 2, clipSpacing: 60 };
  const starts = clipStarts(200, sampling);
  assert.deepEqual(starts, [0, 60, 120, 180]);
  assert.deepEqual(clipFrames(180, sampling), [180, 182, 184, 186, 188, 190, 192, 194]);
  assert.deepEqual(clipStarts(195, sampling), [0, 60, 120, 180]);
  assert.deepEqual(clipStarts(194, sampling), [0, 60, 120]);
  const order = epochOrder(50, 7, 0);
  assert.deepEqual(
    [...order].sort((a, b) => a - b),
    Array.from({ length: 50 }, (_, i) => i),
  );
  assert.deepEqual(epochOrder(50, 7, 0), order, "same seed and epoch, same order");
  assert.notDeepEqual(epochOrder(50, 7, 1), order, "a new epoch reshuffles");
  assert.notDeepEqual(epochOrder(50, 8, 0), order, "a new seed reshuffles");
  assert.throws(() => clipStarts(10, sampling), /has 10 frames, shorter than one clip \(15 frames\)/);
  assert.throws(
    () => clipStarts(100, { ...sampling, clipLength: 0 }),
    /clipLength must be a positive integer/,
  );
});

test("the frame cache holds exactly the clip frames, built by parallel workers, and is reused", async () => {
  const info = await probeVideo(vtest);
  const size = scaledSize(info.width, info.height, 32);
  const all = await collect(decodeFrames(vtest, { ...size, fps: info.fps }));
  for (const sampling of [
    { clipLength: 8, frameStride: 1, clipSpacing: 60 }, // ffmpeg drops the unused frames
    { clipLength: 4, frameStride: 3, clipSpacing: 7 }, // overlapping clips
  ]) {
    let progress = 0;
    const cache = await FrameCache.open(vtest, {
      shortSide: 32,
      sampling,
      cacheRoot: join(dir, "cache"),
      workers: 3,
      onProgress: (done) => (progress = done),
    });
    const starts = clipStarts(795, sampling);
    assert.equal(cache.clipCount, starts.length);
    assert.equal(progress, starts.length);
    for (const clip of [0, 1, Math.floor(starts.length / 2), starts.length - 1]) {
      const frames = cache.readClip(clip);
      clipFrames(starts[clip], sampling).forEach((frame, position) => {
        const stored = frames.subarray(position * cache.frameBytes, (position + 1) * cache.frameBytes);
        assert.deepEqual(stored, all[frame], `clip ${clip}, frame ${frame}`);
      });
    }
    const started = performance.now();
    const reopened = await FrameCache.open(vtest, { shortSide: 32, sampling, cacheRoot: join(dir, "cache") });
    assert.equal(reopened.directory, cache.directory);
    assert.ok(performance.now() - started < 2000, "reopening must not decode again");
    assert.throws(() => cache.readClip(starts.length), /does not exist/);
    cache.close();
    reopened.close();
  }
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
    FrameCache.open(short, { shortSide: 32, sampling, cacheRoot }),
    /has 5 frames, shorter than one clip \(8 frames\)/,
  );
  const locked = join(dir, "locked");
  mkdirSync(locked);
  chmodSync(locked, 0o500);
  const asRoot = process.getuid?.() === 0; // root writes anywhere: use a path under a file instead
  const unwritable = asRoot ? join(notVideo, "cache") : locked;
  await assert.rejects(
    FrameCache.open(vtest, { shortSide: 32, sampling, cacheRoot: unwritable }),
    /cannot write the frame cache under .* set ONEVIDEO_CACHE or --cache-dir/,
  );
});
