// onevideo eval dense on a tiny tour: one JSON line with per-class IoU on success; one error
// line and exit 1 for a tour without semantic maps, a bad split or an unknown option.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { buildTour } from "../../src/data/tours/build.ts";
import { createVit } from "../../src/models/vit.ts";
import { writeSafetensors } from "../../src/torch/index.ts";
import { scratchDir } from "../helpers/videos.ts";

const cli = fileURLToPath(new URL("../../bin/onevideo.js", import.meta.url));
const dir = scratchDir("onevideo-dense-");
const tour = join(dir, "tour");
const manifest = await buildTour({
  out: tour,
  seed: 3,
  width: 64,
  height: 48,
  fps: 10,
  seconds: 2,
  density: 3,
  photos: 2,
  sequences: 4,
  sequenceFrames: 4,
});
const weights = join(dir, "random.safetensors");
writeSafetensors(weights, createVit("vit_tiny", { patchSize: 8, imageSize: 32 }).stateDict());
const base = ["eval", "dense", "--checkpoint", weights, "--tour", tour, "--size", "32", "--epochs", "2"];

function onevideo(...args: string[]) {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test("eval dense trains on the first half of the sequences and prints one JSON line", () => {
  const { code, stdout, stderr } = onevideo(...base);
  assert.equal(code, 0, stderr);
  const lines = stdout.trim().split("\n");
  assert.equal(lines.length, 1);
  const report = JSON.parse(lines[0]);
  assert.deepEqual(Object.keys(report), [
    "checkpoint",
    "train_frames",
    "test_frames",
    "mIoU",
    "pixel_accuracy",
    "iou",
  ]);
  assert.equal(report.checkpoint, weights);
  assert.equal(report.train_frames, 8);
  assert.equal(report.test_frames, 8);
  assert.ok(report.mIoU >= 0 && report.mIoU <= 1, `mIoU ${report.mIoU}`);
  assert.ok(report.pixel_accuracy >= 0 && report.pixel_accuracy <= 1);
  // Every class by name, background first; null only for classes absent from the test frames.
  assert.deepEqual(Object.keys(report.iou), manifest.davis.semantic!.classNames);
  assert.equal(Object.keys(report.iou)[0], "background");
  assert.equal(typeof report.iou.background, "number");
  const split = JSON.parse(onevideo(...base, "--train-sequences", "1").stdout);
  assert.equal(split.train_frames, 4);
  assert.equal(split.test_frames, 12);
});

test("eval dense is listed and documents its options", () => {
  assert.match(onevideo("eval", "--help").stdout, /^ {2}dense /m);
  const text = onevideo("eval", "dense", "--help").stdout;
  for (const flag of [
    "--checkpoint",
    "--tour",
    "--size",
    "--epochs",
    "--lr",
    "--batch-size",
    "--train-sequences",
  ])
    assert.match(text, new RegExp(`${flag} `), flag);
});

test("bad inputs get one line and exit 2 (usage) or 1", () => {
  const old = join(dir, "old-tour");
  cpSync(tour, old, { recursive: true });
  rmSync(join(old, "davis", "SemanticAnnotations"), { recursive: true });
  const withTour = (folder: string) => base.map((arg) => (arg === tour ? folder : arg));
  const cases: [string[], 1 | 2, RegExp][] = [
    [withTour(old), 1, /has no semantic label maps .*; rebuild it with 'onevideo tours'/],
    [withTour(join(dir, "nowhere")), 1, /is not a tour folder \(no tour\.json\)/],
    [[...base, "--colour", "red"], 2, /unknown option 'colour'/],
    [[...base, "--train-sequences", "4"], 1, /--train-sequences 4 leaves none of the 4 sequences/],
  ];
  for (const [args, exitCode, expected] of cases) {
    const { code, stdout, stderr } = onevideo(...args);
    assert.equal(code, exitCode, `${args.join(" ")}: exit ${code}, ${stderr}`);
    assert.match(stderr, expected, args.join(" "));
    assert.equal(stderr.trim().split("\n").length, 1, `one line for ${args.join(" ")}: ${stderr}`);
    assert.equal(stdout, "");
  }
});
