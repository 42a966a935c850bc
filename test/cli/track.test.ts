// onevideo track: one overlay per frame and the heads' attention; too many objects or a clip
// longer than the video are one clear line each.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { createVit } from "../../src/models/vit.ts";
import { writeSafetensors } from "../../src/torch/index.ts";
import { decodePng } from "../../src/image/png_decode.ts";
import { scratchDir, syntheticVideo } from "../helpers/videos.ts";

const cli = fileURLToPath(new URL("../../bin/onevideo.js", import.meta.url));
const onevideo = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });

test("track writes every frame's object overlay and the chosen heads' attention", () => {
  const dir = scratchDir();
  const weights = join(dir, "vit.safetensors");
  writeSafetensors(weights, createVit("vit_tiny", { patchSize: 8, imageSize: 32 }).stateDict());
  const video = syntheticVideo(join(dir, "pattern.mp4"), 20, "64x48");
  const out = join(dir, "track");
  const base = ["track", "--checkpoint", weights, "--video", video];
  const run = onevideo(...base, "--out", out, "--frames", "4", "--stride", "2", "--heads", "0,2");
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(readdirSync(out).sort(), [
    "frame-000.png",
    "frame-001.png",
    "frame-002.png",
    "frame-003.png",
    "heads.png",
  ]);
  const json = onevideo(
    ...base,
    "--out",
    join(dir, "track-json"),
    "--frames",
    "4",
    "--stride",
    "2",
    "--heads",
    "0,2",
    "--json",
  );
  assert.equal(json.status, 0, json.stderr);
  const result = JSON.parse(json.stdout) as { heads: number[]; files: string[] };
  assert.deepEqual(result.heads, [0, 2]);
  assert.deepEqual(result.files.sort(), readdirSync(join(dir, "track-json")).sort());
  const frame = decodePng(readFileSync(join(out, "frame-002.png")));
  assert.deepEqual([frame.width, frame.height], [40, 32]); // short side 32, patch-aligned
  const cases: [string[], RegExp][] = [
    [["--objects", "4"], /the encoder has 3 heads \(0 \.\. 2\); ask for at most 3 objects/],
    [["--frames", "30"], /has 20 frames; a clip of 30 frames \(stride 1\) from 0 s does not fit/],
    [["--start", "0.6", "--frames", "8"], /a clip of 8 frames \(stride 1\) from 0.6 s does not fit/],
  ];
  for (const [extra, expected] of cases) {
    const bad = onevideo(...base, "--out", join(dir, "bad"), ...extra);
    assert.equal(bad.status, 1, extra.join(" "));
    assert.match(bad.stderr, expected);
    assert.equal(bad.stderr.trim().split("\n").length, 1);
  }
});
