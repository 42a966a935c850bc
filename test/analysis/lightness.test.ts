// Lightness: CIELAB L* of known colours, of frames, and through the whole pipeline on
// losslessly stored colours and a generated fade.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { analyzeVideo } from "../../src/analysis/analyze_video.ts";
import { defaultCutDetection } from "../../src/analysis/shot_detection.ts";
import { frameLightness, lightnessOfRgb } from "../../src/analysis/lightness.ts";
import { probeVideo } from "../../src/video/probe.ts";
import { scratchDir } from "../helpers/videos.ts";
import { coloursVideo, fadeVideo } from "../helpers/footage.ts";

// L* of sRGB colours under D65, from the CIELAB and sRGB definitions.
const knownColours: [string, [number, number, number], number][] = [
  ["black", [0, 0, 0], 0],
  ["white", [255, 255, 255], 100],
  ["red", [255, 0, 0], 53.24],
  ["green", [0, 255, 0], 87.73],
  ["blue", [0, 0, 255], 32.3],
  ["grey 0x77", [119, 119, 119], 50.03],
  ["dark grey 0x10 (on the linear segment)", [16, 16, 16], 4.68],
];

const settings = { shortSide: 144, minimumShotSeconds: 0.5, cuts: defaultCutDetection };

test("known colours have their known L*", () => {
  for (const [name, [red, green, blue], expected] of knownColours) {
    assert.ok(
      Math.abs(lightnessOfRgb(red, green, blue) - expected) < 0.01,
      `${name}: ${lightnessOfRgb(red, green, blue)}`,
    );
  }
});

test("a frame's lightness is the mean of its pixels' L*, its spread their standard deviation", () => {
  const uniform = frameLightness(Uint8Array.from({ length: 12 }, () => 119));
  assert.ok(Math.abs(uniform.mean - 50.03) < 0.01);
  assert.ok(uniform.spread < 1e-6);
  // Half black, half white: L* 0 and 100.
  const halves = frameLightness(Uint8Array.from([0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255]));
  assert.ok(Math.abs(halves.mean - 50) < 1e-9);
  assert.ok(Math.abs(halves.spread - 50) < 1e-9);
});

test("frames of known colour give their known L* through ffmpeg", async () => {
  const dir = scratchDir();
  const colours = ["red", "0x777777", "blue", "white"];
  const video = coloursVideo(join(dir, "colours.mkv"), colours, 3);
  const analysis = await analyzeVideo(await probeVideo(video), settings);
  const expected = [53.24, 50.03, 32.3, 100].flatMap((lightness) => [lightness, lightness, lightness]);
  assert.equal(analysis.series.lightness.length, expected.length);
  analysis.series.lightness.forEach((lightness, frame) =>
    assert.ok(
      Math.abs(lightness - expected[frame]) < 0.05,
      `frame ${frame}: ${lightness} vs ${expected[frame]}`,
    ),
  );
  // Solid colours: no light and shade within a frame.
  assert.ok(analysis.series.lightness_spread.every((spread) => spread < 0.01));
  assert.deepEqual(analysis.summary.lightness.min, 32.3);
  assert.deepEqual(analysis.summary.lightness.max, 100);
});

test("a fade to black gives a falling curve and a negative trend", async () => {
  const dir = scratchDir();
  const analysis = await analyzeVideo(await probeVideo(fadeVideo(join(dir, "fade.mkv"), 30)), settings);
  const { lightness } = analysis.series;
  assert.equal(lightness.length, 30);
  assert.equal(lightness[0], 100);
  assert.ok(lightness.at(-1)! < 5);
  for (let frame = 1; frame < lightness.length; frame++) {
    assert.ok(
      lightness[frame] < lightness[frame - 1],
      `frame ${frame}: ${lightness[frame - 1]} -> ${lightness[frame]}`,
    );
  }
  assert.ok(analysis.summary.lightness.trend_per_minute < -3000); // about -100 L* over 1.2 s
  // A fade is no cut.
  assert.equal(analysis.shots.length, 1);
});
