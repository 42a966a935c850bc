// Tours benchmark build time: a 10-minute tour at the default 128x96 and 10 fps (override with
// BENCH_TOUR_MINUTES), with its four held-out sequences, and the renderer alone without ffmpeg.
// Last line: {"minutes", "frames", "build_s", "frames_per_s", "render_frames_per_s"}.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildTour } from "../src/data/tours/build.ts";
import { frameBuffers, renderFrame } from "../src/data/tours/render.ts";
import { tourScene } from "../src/data/tours/scenes.ts";
import { loadWorld } from "../src/data/tours/world.ts";
import { positiveNumber } from "./settings.ts";

const minutes = positiveNumber("BENCH_TOUR_MINUTES", 10);
const settings = {
  seed: 0,
  width: 128,
  height: 96,
  fps: 10,
  seconds: minutes * 60,
  density: 3,
  photos: 12,
  sequences: 4,
  sequenceFrames: 24,
};
const out = mkdtempSync(join(tmpdir(), "onevideo-bench-tours-"));

const started = performance.now();
const manifest = await buildTour({ ...settings, out });
const buildSeconds = (performance.now() - started) / 1000;
console.log(
  `built ${manifest.frames} frames (${minutes} min, ${settings.width}x${settings.height} @ ${settings.fps} fps, ` +
    `${manifest.objects.length} objects, ${manifest.codec}) in ${buildSeconds.toFixed(1)} s`,
);

// Rendering alone, over the first 2000 frames: how much of the build is the renderer's.
const world = loadWorld(settings.seed, settings.photos, settings.height);
const scene = tourScene(world, settings.seed, settings, settings.seconds);
const buffers = frameBuffers(settings.width, settings.height);
const renderFrames = Math.min(2000, manifest.frames);
const renderStarted = performance.now();
for (let frame = 0; frame < renderFrames; frame++) renderFrame(scene, frame / settings.fps, buffers);
const renderSeconds = (performance.now() - renderStarted) / 1000;
console.log(`renderer alone: ${(renderFrames / renderSeconds).toFixed(0)} frames/s`);
rmSync(out, { recursive: true, force: true });

console.log(
  JSON.stringify({
    minutes,
    frames: manifest.frames,
    build_s: +buildSeconds.toFixed(2),
    frames_per_s: +(manifest.frames / buildSeconds).toFixed(1),
    render_frames_per_s: +(renderFrames / renderSeconds).toFixed(1),
  }),
);
