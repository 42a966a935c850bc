// onevideo analyze: the files it writes, objects per frame with an encoder, a report that a
// headless Chromium draws with every plot, and one line for each bad input with nothing
// already written lost.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { createVit } from "../../src/models/vit.ts";
import { manualSeed, writeSafetensors } from "../../src/torch/index.ts";
import { decodePng } from "../../src/image/png_decode.ts";
import { cutsAndFadeVideo, fadeVideo } from "../helpers/footage.ts";
import { scratchDir } from "../helpers/videos.ts";

const cli = fileURLToPath(new URL("../../bin/onevideo.js", import.meta.url));
const onevideo = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });

/** Loads report.html in headless Chromium: the DOM after its scripts ran, or a screenshot. */
function chromium(report: string, ...extra: string[]): string {
  try {
    return execFileSync(
      "chromium",
      ["--headless", "--no-sandbox", "--disable-gpu", ...extra, `file://${report}`],
      { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 60_000 },
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new Error("chromium is not installed; run 'bash scripts/setup.sh'");
    }
    throw error;
  }
}

/** The page's own count of plots that loaded, and how many it has. */
function imagesLoaded(report: string): { loaded: number; total: number } {
  const body = chromium(report, "--virtual-time-budget=5000", "--dump-dom").match(/<body[^>]*>/)?.[0] ?? "";
  const attribute = (name: string) => Number(body.match(new RegExp(`${name}="(\\d+)"`))?.[1] ?? NaN);
  return { loaded: attribute("data-images-loaded"), total: attribute("data-images-total") };
}

interface AnalysisFile {
  checkpoint?: string;
  videos: {
    video: { path: string; frames: number };
    series: { frame: number[]; time: number[]; lightness: number[] };
    shots: { start_frame: number; end_frame: number; start_time: number; end_time: number }[];
    objects?: { frame: number[]; count: number[] };
    objects_note?: string;
    summary: Record<string, unknown>;
  }[];
}

test("analyze with an encoder: JSON, three plots, and a report Chromium draws whole", () => {
  const dir = scratchDir();
  const footage = cutsAndFadeVideo(dir);
  const fade = fadeVideo(join(dir, "fade.mkv"), 30);
  manualSeed(0);
  const weights = join(dir, "vit.safetensors");
  writeSafetensors(weights, createVit("vit_tiny", { patchSize: 8, imageSize: 32 }).stateDict());
  const out = join(dir, "analysis");
  const run = onevideo(
    "analyze",
    footage.path,
    fade,
    "--out",
    out,
    "--checkpoint",
    weights,
    // Every 5th frame (the cuts fall on multiples of 5), objects counted on each.
    "--sample-fps",
    "5",
    "--object-fps",
    "5",
  );
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.trim().split("\n").at(-1), out);
  assert.match(run.stdout, /cuts-and-fade\.mp4: 6\.8 s, 4 shot\(s\)/);
  assert.deepEqual(readdirSync(out).sort(), [
    "analysis.json",
    "lightness.png",
    "objects.png",
    "report.html",
    "shot_lengths.png",
  ]);
  const analysis = JSON.parse(readFileSync(join(out, "analysis.json"), "utf8")) as AnalysisFile;
  assert.equal(analysis.checkpoint, weights);
  const [cuts, faded] = analysis.videos;
  assert.deepEqual(
    cuts.shots.map((shot) => [shot.start_frame, shot.end_frame]),
    [
      [0, 29],
      [30, 59],
      [60, 139],
      [140, 169],
    ],
  );
  assert.deepEqual(cuts.shots[1], { start_frame: 30, end_frame: 59, start_time: 1.2, end_time: 2.4 });
  assert.equal(faded.shots.length, 1);
  for (const video of analysis.videos) {
    // One count per sampled frame (objects counted at the sampling rate), each between 1 and the 3 heads.
    assert.deepEqual(video.objects!.frame, video.series.frame);
    assert.ok(video.objects!.count.every((count) => Number.isInteger(count) && count >= 1 && count <= 3));
    assert.equal(video.objects_note, undefined);
    for (const key of [
      "duration_s",
      "width",
      "height",
      "fps",
      "shot_count",
      "mean_shot_s",
      "lightness",
      "objects",
    ]) {
      assert.ok(key in video.summary, key);
    }
  }
  assert.deepEqual(cuts.series.frame.slice(0, 3), [0, 5, 10]);
  assert.equal(cuts.series.frame.length, 34);

  const report = join(out, "report.html");
  assert.deepEqual(imagesLoaded(report), { loaded: 3, total: 3 });
  const screenshot = join(dir, "report.png");
  chromium(report, `--screenshot=${screenshot}`, "--window-size=900,1400");
  const picture = decodePng(readFileSync(screenshot));
  assert.deepEqual([picture.width, picture.height], [900, 1400]);
  assert.ok(new Set(picture.data).size > 20, "the screenshot shows a page, not a blank");

  // The check fails when a plot is missing.
  const broken = join(dir, "broken");
  cpSync(out, broken, { recursive: true });
  rmSync(join(broken, "objects.png"));
  assert.deepEqual(imagesLoaded(join(broken, "report.html")), { loaded: 2, total: 3 });
});

test("without an encoder objects are left out with a note; bad inputs are one line and keep earlier output", () => {
  const dir = scratchDir();
  const video = fadeVideo(join(dir, "fade.mkv"), 20);
  const out = join(dir, "analysis");
  const run = onevideo("analyze", video, "--out", out);
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(readdirSync(out).sort(), [
    "analysis.json",
    "lightness.png",
    "report.html",
    "shot_lengths.png",
  ]);
  const written = readFileSync(join(out, "analysis.json"), "utf8");
  const [analysis] = (JSON.parse(written) as AnalysisFile).videos;
  // --json: the summaries analysis.json holds, as one JSON object on stdout.
  const json = onevideo("analyze", video, "--out", join(dir, "analysis-json"), "--json");
  assert.equal(json.status, 0, json.stderr);
  const result = JSON.parse(json.stdout) as { out: string; videos: { path: string; summary: object }[] };
  assert.equal(result.out, join(dir, "analysis-json"));
  assert.deepEqual(result.videos, [{ path: analysis.video.path, summary: analysis.summary }]);
  assert.equal(analysis.objects, undefined);
  assert.match(analysis.objects_note!, /need an encoder, give --checkpoint/);
  assert.deepEqual(
    analysis.series.frame,
    Array.from({ length: 20 }, (_, frame) => frame),
  );
  assert.match(readFileSync(join(out, "report.html"), "utf8"), /need an encoder, give --checkpoint/);

  const folder = join(dir, "folder");
  mkdirSync(folder);
  const empty = join(dir, "empty.mp4");
  writeFileSync(empty, "");
  const text = join(dir, "notes.mp4");
  writeFileSync(text, "not a video\n");
  // A real container whose frames are all zeros: ffprobe sees a video stream, nothing decodes.
  const undecodable = join(dir, "undecodable.mp4");
  execFileSync("ffmpeg", [
    ..."-v error -y -f lavfi -i testsrc=size=64x48:rate=25 -frames:v 10 -c:v libx264 -movflags +faststart".split(
      " ",
    ),
    undecodable,
  ]);
  const bytes = readFileSync(undecodable);
  const mdat = bytes.indexOf("mdat");
  bytes.fill(0, mdat + 4, mdat - 4 + bytes.readUInt32BE(mdat - 4));
  writeFileSync(undecodable, bytes);
  const badCheckpoint = join(dir, "weights.pth");
  copyFileSync(text, badCheckpoint);
  const cases: [string[], RegExp][] = [
    [[folder], /video .*folder is a directory, not a file/],
    [[empty], /video .*empty\.mp4 is empty \(0 bytes\)/],
    [[text], /notes\.mp4 is not a video ffmpeg can read/],
    [
      [undecodable],
      /undecodable\.mp4 has no decodable video frames \(ffmpeg decoded none\); check that it plays/,
    ],
    [[video, join(dir, "missing.mp4")], /video not found: .*missing\.mp4/],
    [
      [video, "--checkpoint", badCheckpoint],
      /cannot read .*weights\.pth as a checkpoint .*give a run folder, a \.safetensors or a \.pth/,
    ],
  ];
  for (const [args, expected] of cases) {
    const bad = onevideo("analyze", ...args, "--out", out);
    assert.equal(bad.status, 1, args.join(" "));
    assert.match(bad.stderr, expected);
    assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
  }
  assert.equal(readFileSync(join(out, "analysis.json"), "utf8"), written, "the earlier analysis is intact");
  const outIsFile = onevideo("analyze", video, "--out", video);
  assert.equal(outIsFile.status, 1);
  assert.match(outIsFile.stderr, /--out .*fade\.mkv is a file; give a folder/);
});
