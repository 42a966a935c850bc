// onevideo attention: one PNG per head at the image's patch-aligned size, and clear errors.
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

test("attention writes the image, every head's map and the strip", () => {
  const dir = scratchDir();
  const weights = join(dir, "vit.safetensors");
  writeSafetensors(weights, createVit("vit_tiny", { patchSize: 8, imageSize: 32 }).stateDict());
  const image = syntheticVideo(join(dir, "pattern.png"), 1, "80x60");
  const out = join(dir, "maps");
  const run = onevideo("attention", "--checkpoint", weights, "--image", image, "--out", out, "--size", "48");
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.trim(), out);
  // --json: the same maps, and the result as one JSON object naming them.
  const jsonOut = join(dir, "maps-json");
  const json = onevideo(
    "attention",
    "--checkpoint",
    weights,
    "--image",
    image,
    "--out",
    jsonOut,
    "--size",
    "48",
    "--json",
  );
  assert.equal(json.status, 0, json.stderr);
  const result = JSON.parse(json.stdout) as { out: string; heads: number; files: string[]; size: object };
  assert.equal(result.out, jsonOut);
  assert.equal(result.heads, 3);
  assert.deepEqual(result.files.sort(), readdirSync(jsonOut).sort());
  assert.deepEqual(result.size, { width: 64, height: 48 });
  assert.deepEqual(readdirSync(out).sort(), [
    "head-0.png",
    "head-1.png",
    "head-2.png",
    "heads.png",
    "image.png",
  ]);
  // Short side 48, long side 64 (80 * 48/60), both multiples of the patch.
  const head = decodePng(readFileSync(join(out, "head-1.png")));
  assert.deepEqual([head.width, head.height], [64, 48]);
  const bad = onevideo("attention", "--checkpoint", weights, "--image", image, "--out", out, "--block", "12");
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--block 12: the encoder has 12 blocks/);
  const notImage = onevideo("attention", "--checkpoint", weights, "--image", weights, "--out", out);
  assert.equal(notImage.status, 1);
  assert.equal(notImage.stderr.trim().split("\n").length, 1, notImage.stderr);
});
