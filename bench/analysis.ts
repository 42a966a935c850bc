// Footage analysis throughput and memory: generated 1080p H.264 inputs (a moving test pattern
// cut every few seconds to colour bars), a short one and one BENCH_LENGTH_RATIO times longer,
// each analysed by `analyzeVideo` in a fresh process (every frame sampled, no encoder) that
// reports frames per second and its peak RSS. Memory should not grow with the input: the
// ratio of the two peaks should stay near 1. BENCH_SHORT_SECONDS (default 10) and
// BENCH_LENGTH_RATIO (6) size it. Last line: one JSON object with the figures.
// The peak RSS is the Node process's own; ffmpeg's decoder, a separate process, is not in it.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { analyzeVideo } from "../src/analysis/analyze_video.ts";
import { defaultCutDetection } from "../src/analysis/shot_detection.ts";
import { probeVideo } from "../src/video/probe.ts";
import { positiveNumber } from "./settings.ts";

interface Measurement {
  frames: number;
  seconds: number;
  frames_per_s: number;
  peak_rss_mb: number;
  shots: number;
}

/** In the child: analyses one video and prints its measurement as JSON. */
async function measure(video: string): Promise<void> {
  const started = performance.now();
  const analysis = await analyzeVideo(await probeVideo(video), {
    shortSide: 144,
    minimumShotSeconds: 0.5,
    cuts: defaultCutDetection,
  });
  const seconds = (performance.now() - started) / 1000;
  const result: Measurement = {
    frames: analysis.series.frame.length,
    seconds: +seconds.toFixed(2),
    frames_per_s: +(analysis.series.frame.length / seconds).toFixed(1),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    shots: analysis.shots.length,
  };
  console.log(JSON.stringify(result));
}

/** Shots in a generated input: cuts to the bars at 4, 9, 14, ... s and back at 5, 10, 15, ... s. */
function expectedShots(seconds: number): number {
  let cuts = 0;
  for (let t = 1; t < seconds; t++) if (t % 5 === 4 || t % 5 === 0) cuts++;
  return cuts + 1;
}

/** A 1080p30 test pattern of `seconds`, with a 1 s cut to colour bars every 5 s. */
function generate(path: string, seconds: number): void {
  const source = `testsrc2=size=1920x1080:rate=30:duration=${seconds}`;
  const bars = "smptehdbars=size=1920x1080:rate=30";
  execFileSync("ffmpeg", [
    ...["-v", "error", "-y", "-f", "lavfi", "-i", source, "-f", "lavfi", "-i", bars],
    "-filter_complex",
    "[0:v][1:v]overlay=enable='between(mod(t,5),4,5)':shortest=1[video]",
    ...["-map", "[video]", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", path],
  ]);
}

if (process.argv[2] === "--measure") {
  await measure(process.argv[3]);
} else {
  const shortSeconds = positiveNumber("BENCH_SHORT_SECONDS", 10);
  const ratio = positiveNumber("BENCH_LENGTH_RATIO", 6);
  const work = mkdtempSync(join(tmpdir(), "onevideo-bench-analysis-"));
  const self = fileURLToPath(import.meta.url);
  const results: Record<string, Measurement> = {};
  for (const [name, seconds] of [
    ["short", shortSeconds],
    ["long", shortSeconds * ratio],
  ] as const) {
    const video = join(work, `${name}.mp4`);
    const generating = performance.now();
    generate(video, seconds);
    console.log(
      `generated ${name}: ${seconds} s of 1920x1080 at 30 fps in ${((performance.now() - generating) / 1000).toFixed(1)} s`,
    );
    const output = execFileSync(process.execPath, ["--import", "tsx", self, "--measure", video], {
      encoding: "utf8",
    });
    results[name] = JSON.parse(output.trim().split("\n").at(-1)!) as Measurement;
    const r = results[name];
    console.log(
      `${name}: ${r.frames} frames in ${r.seconds} s = ${r.frames_per_s} frames/s, ` +
        `${r.shots} shots (${expectedShots(seconds)} made), peak RSS ${r.peak_rss_mb} MB`,
    );
  }
  rmSync(work, { recursive: true, force: true });
  console.log(
    JSON.stringify({
      input: "1920x1080 h264 30 fps",
      cores: cpus().length,
      frames_per_s: results.long.frames_per_s,
      short_frames: results.short.frames,
      long_frames: results.long.frames,
      peak_rss_short_mb: results.short.peak_rss_mb,
      peak_rss_long_mb: results.long.peak_rss_mb,
      rss_ratio: +(results.long.peak_rss_mb / results.short.peak_rss_mb).toFixed(3),
    }),
  );
}
