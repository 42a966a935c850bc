// The summary's numbers, the plots' data reduction and bins, and the report's page.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { VideoAnalysis } from "../../src/analysis/analyze_video.ts";
import { shotsFromCuts } from "../../src/analysis/shots.ts";
import { leastSquaresSlope, summarise } from "../../src/analysis/summary.ts";
import { downsample, shotLengthBins, videoLabels } from "../../src/viz/analysis_plots.ts";
import { analysisReportHtml } from "../../src/viz/analysis_report.ts";

test("the summary: duration, shots, lightness range and trend, objects", () => {
  assert.equal(leastSquaresSlope([0, 1, 2, 3], [5, 7, 9, 11]), 2);
  assert.equal(leastSquaresSlope([1, 1], [0, 5]), 0);
  // Two minutes at 10 fps, sampled every second; the light rises 3 L* a minute.
  const time = Array.from({ length: 120 }, (_, i) => i);
  const summary = summarise({
    video: { width: 640, height: 360, fps: 10, frames: 1200 },
    time,
    lightness: time.map((t) => 40 + t / 20),
    lightnessSpread: time.map(() => 12),
    shots: shotsFromCuts([300, 900], 1200, 10),
    objectCounts: [1, 2, 3, 2],
  });
  assert.equal(summary.duration_s, 120);
  assert.equal(summary.shot_count, 3);
  assert.equal(summary.shots_per_minute, 1.5);
  assert.equal(summary.mean_shot_s, 40);
  assert.equal(summary.longest_shot_s, 60);
  assert.deepEqual(summary.lightness, { min: 40, max: 45.95, mean: 42.98, range: 5.95, trend_per_minute: 3 });
  assert.equal(summary.mean_lightness_spread, 12);
  assert.deepEqual(summary.objects, { mean: 2, min: 1, max: 3 });
});

test("long series are averaged down for plotting; shot lengths fall in doubling bins", () => {
  const x = Array.from({ length: 10_000 }, (_, i) => i);
  const reduced = downsample(
    x,
    x.map((v) => 2 * v),
    1000,
  );
  assert.equal(reduced.x.length, 1000);
  assert.deepEqual([reduced.x[0], reduced.y[0]], [4.5, 9]);
  assert.deepEqual(downsample([1, 2], [3, 4]), { x: [1, 2], y: [3, 4] });
  assert.deepEqual(shotLengthBins(5), { edges: [0, 1, 2, 4, 8], labels: ["<1", "1-2", "2-4", "4-8"] });
  assert.deepEqual(shotLengthBins(0.5).labels, ["<1"]);
});

function fakeAnalysis(path: string, note?: string): VideoAnalysis {
  const shots = shotsFromCuts([5], 10, 5);
  return {
    video: { path, codec: "h264", width: 64, height: 48, fps: 5, frames: 10 },
    sampling: { frame_step: 1, sample_fps: 5, analysis_width: 64, analysis_height: 48 },
    series: { frame: [0], time: [0], lightness: [50], lightness_spread: [0], content_change: [0] },
    shots,
    ...(note ? { objects_note: note } : {}),
    summary: summarise({
      video: { width: 64, height: 48, fps: 5, frames: 10 },
      time: [0, 1],
      lightness: [50, 52],
      lightnessSpread: [0, 0],
      shots,
    }),
  };
}

test("the report: a column per video, every plot, each shot, names escaped, a shared note once", () => {
  const analyses = [fakeAnalysis("/a/street.mp4", "no encoder"), fakeAnalysis("/b/<odd>.mp4", "no encoder")];
  assert.deepEqual(videoLabels([fakeAnalysis("/a/x.mp4"), fakeAnalysis("/b/x.mp4")]), [
    "x.mp4 (1)",
    "x.mp4 (2)",
  ]);
  const plots = [
    { file: "lightness.png", title: "Lightness", caption: "L*" },
    { file: "shot_lengths.png", title: "Shots", caption: "lengths" },
  ];
  const html = analysisReportHtml(analyses, plots);
  assert.match(html, /<th>street\.mp4<\/th><th>&#60;odd&#62;\.mp4<\/th>/);
  assert.ok(!html.includes("<odd>"));
  assert.deepEqual(
    [...html.matchAll(/<img src="([^"]+)"/g)].map((match) => match[1]),
    ["lightness.png", "shot_lengths.png"],
  );
  assert.match(html, /data-images-total="2"/);
  assert.equal(html.split("no encoder").length - 1, 1);
  assert.equal(html.match(/<td>1<\/td><td>0<\/td><td>4<\/td><td>0<\/td><td>1<\/td>/g)?.length, 2);
  assert.match(html, /<tr><th>shots<\/th><td>2<\/td><td>2<\/td><\/tr>/);
  // Offline: nothing is fetched from elsewhere.
  assert.ok(!/(src|href)="(https?:)?\/\//.test(html));
});
