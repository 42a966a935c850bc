// Training throughput at the demo configuration, the step split into data and compute,
// and peak RSS on a short video against a >= 1-hour one (the same footage looped):
// memory must not grow with the video's length.
// Last line: {"frames_per_s", "clips_per_s", "data_share", "rss_short_mb", "rss_long_mb", "rss_ratio"}.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { demoOptions, demoVideo } from "../src/pretrain/demo.ts";
import { probeVideo } from "../src/video/probe.ts";
import { wholeNumber } from "./settings.ts";

const steps = wholeNumber("BENCH_STEPS", 30);
const work = mkdtempSync(join(tmpdir(), "onevideo-bench-train-"));
const cli = fileURLToPath(new URL("../bin/onevideo.js", import.meta.url));

// One hour or more of real footage: vtest.avi looped, stream-copied (no re-encoding).
const longVideo = join(work, "long.avi");
const short = await probeVideo(demoVideo);
const loops = Math.ceil(3600 / short.duration);
if (!existsSync(longVideo)) {
  execFileSync("ffmpeg", [
    "-v",
    "error",
    "-stream_loop",
    String(loops - 1),
    "-i",
    demoVideo,
    "-c",
    "copy",
    longVideo,
  ]);
}
const long = await probeVideo(longVideo);
console.log(
  `short video: ${short.duration.toFixed(0)} s, ${short.frameCount} frames; long: ${(long.duration / 3600).toFixed(2)} h, ${long.frameCount} frames`,
);

function run(video: string, name: string) {
  const out = join(work, name);
  const flags = Object.entries({
    ...demoOptions,
    video,
    out,
    steps,
    clipSpacing: 60,
    logEvery: 10,
    cacheDir: join(work, "cache"),
  }).flatMap(([key, value]) => [`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(value)]);
  const started = performance.now();
  execFileSync(process.execPath, [cli, "pretrain", ...flags], { stdio: ["ignore", "ignore", "inherit"] });
  const seconds = (performance.now() - started) / 1000;
  const records = readFileSync(join(out, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));
  const timed = records.slice(1); // the first window includes warm-up
  const stepMs = timed.reduce((total, r) => total + r.step_ms, 0) / timed.length;
  const dataMs = timed.reduce((total, r) => total + r.data_ms, 0) / timed.length;
  const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
  console.log(
    `${name}: ${stepMs.toFixed(0)} ms/step (data ${dataMs.toFixed(1)} ms), peak RSS ${summary.peakRssMb} MB, wall ${seconds.toFixed(0)} s incl. decoding`,
  );
  return { stepMs, dataMs, rss: summary.peakRssMb as number };
}

const shortRun = run(demoVideo, "short");
const longRun = run(longVideo, "long");
const framesPerSecond = (demoOptions.batchSize * 1000) / longRun.stepMs;
console.log(
  JSON.stringify({
    frames_per_s: +framesPerSecond.toFixed(2),
    clips_per_s: +(framesPerSecond / demoOptions.clipLength).toFixed(3),
    data_share: +(longRun.dataMs / longRun.stepMs).toFixed(4),
    rss_short_mb: shortRun.rss,
    rss_long_mb: longRun.rss,
    rss_ratio: +(longRun.rss / shortRun.rss).toFixed(3),
  }),
);
