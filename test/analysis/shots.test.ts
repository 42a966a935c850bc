// Shot detection: the adaptive threshold on constructed change series, shots tiling the video,
// and real decoding: generated cuts found to the frame with no cut in a slow fade, and
// opencv-doc's vtest.avi (one fixed camera) as one shot.
import assert from "node:assert/strict";
import { test } from "node:test";
import { analyzeVideo } from "../../src/analysis/analyze_video.ts";
import { type CutDetection, defaultCutDetection, detectCuts } from "../../src/analysis/shot_detection.ts";
import { shotLengths, shotsFromCuts } from "../../src/analysis/shots.ts";
import { probeVideo } from "../../src/video/probe.ts";
import { scratchDir, vtest } from "../helpers/videos.ts";
import { cutsAndFadeVideo } from "../helpers/footage.ts";

const detection: CutDetection = { ...defaultCutDetection, minimumShotSamples: 5 };
const settings = { shortSide: 144, minimumShotSeconds: 0.5, cuts: defaultCutDetection };
/** A quiet series of `length` changes (a little motion) with some values set. */
function changes(length: number, set: Record<number, number> = {}): number[] {
  return Array.from({ length }, (_, i) => set[i] ?? 0.01 + 0.002 * (i % 3));
}

test("a change far above its neighbours and above the floor is a cut", () => {
  assert.deepEqual(detectCuts(changes(40, { 12: 0.3, 30: 0.15 }), detection), [12, 30]);
  // Large against its neighbours but below the absolute floor: a hand passing the lens.
  assert.deepEqual(detectCuts(changes(40, { 12: 0.06 }), detection), []);
  // Above the floor but no more than the changes around it: a fast pan or a fade.
  const pan = changes(40);
  for (let i = 10; i < 20; i++) pan[i] = 0.12 + 0.04 * (i % 2);
  assert.deepEqual(detectCuts(pan, detection), []);
  // Against a static scene (neighbours change by 0) any change above the floor is a cut.
  assert.deepEqual(detectCuts([0, 0, 0, 0, 0, 0, 0.09, 0, 0, 0], detection), [6]);
});

test("a cut sooner than the minimum shot length after the last is ignored", () => {
  const series = changes(40, { 10: 0.3, 13: 0.3, 16: 0.3 });
  assert.deepEqual(detectCuts(series, detection), [10, 16]);
  assert.deepEqual(detectCuts(series, { ...detection, minimumShotSamples: 1 }), [10, 13, 16]);
  // The first shot is held to it too: a black leader frame is not a shot.
  assert.deepEqual(detectCuts(changes(40, { 2: 0.5 }), detection), []);
});

test("shots tile the video: frames inclusive, times from start to the end of the last frame", () => {
  const shots = shotsFromCuts([30, 60], 100, 25);
  assert.deepEqual(shots, [
    { start_frame: 0, end_frame: 29, start_time: 0, end_time: 1.2 },
    { start_frame: 30, end_frame: 59, start_time: 1.2, end_time: 2.4 },
    { start_frame: 60, end_frame: 99, start_time: 2.4, end_time: 4 },
  ]);
  assert.deepEqual(shotLengths(shots), [1.2, 1.2, 1.6]);
  assert.deepEqual(shotsFromCuts([], 795, 10), [
    { start_frame: 0, end_frame: 794, start_time: 0, end_time: 79.5 },
  ]);
});

test("generated hard cuts are found to the frame and a slow fade inside a shot is not cut", async () => {
  const footage = cutsAndFadeVideo(scratchDir());
  const info = await probeVideo(footage.path);
  const analysis = await analyzeVideo(info, settings);
  assert.equal(analysis.series.frame.length, footage.frames);
  const starts = analysis.shots.slice(1).map((shot) => shot.start_frame);
  assert.equal(starts.length, footage.cuts.length, `cuts at ${starts}`);
  starts.forEach((start, i) =>
    assert.ok(Math.abs(start - footage.cuts[i]) <= 1, `cut at ${start}, truth ${footage.cuts[i]}`),
  );
  const [fadeStart, fadeEnd] = footage.fade;
  assert.ok(starts.every((start) => start < fadeStart || start > fadeEnd + 1));
  // The fade changes every frame, yet no single change stands out.
  const fadeChanges = analysis.series.content_change.slice(fadeStart + 1, fadeEnd + 1);
  assert.ok(Math.min(...fadeChanges) > 0.03, "the fade is a real change");
  assert.deepEqual(analysis.shots.at(-1), {
    start_frame: starts.at(-1),
    end_frame: footage.frames - 1,
    start_time: starts.at(-1)! / footage.fps,
    end_time: footage.frames / footage.fps,
  });
  assert.equal(analysis.summary.shot_count, 4);

  // Sampling every 5th frame: frame numbers stay the source video's, and the cuts (multiples of 5) stay exact.
  const sampled = await analyzeVideo(info, { ...settings, sampleFps: 5 });
  assert.equal(sampled.sampling.frame_step, 5);
  assert.deepEqual(sampled.series.frame.slice(0, 3), [0, 5, 10]);
  assert.deepEqual(
    sampled.shots.slice(1).map((shot) => shot.start_frame),
    footage.cuts,
  );
  assert.equal(sampled.shots.at(-1)!.end_frame, footage.frames - 1);
});

test("vtest.avi, one continuous take, is one shot", async () => {
  const analysis = await analyzeVideo(await probeVideo(vtest), settings);
  assert.equal(analysis.series.frame.length, 795);
  assert.deepEqual(analysis.shots, [{ start_frame: 0, end_frame: 794, start_time: 0, end_time: 79.5 }]);
  assert.equal(analysis.summary.shot_count, 1);
  assert.equal(analysis.summary.mean_shot_s, 79.5);
});
