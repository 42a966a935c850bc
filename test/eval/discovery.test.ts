// The discovery score on constructed masks (perfect 1, disjoint 0, a half overlap worked by hand),
// and `onevideo eval discovery` on a tiny tour: one JSON line whose figures are the scores' own.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { buildTour } from "../../src/data/tours/build.ts";
import { bestMatches, summarizeDiscovery } from "../../src/eval/discovery_score.ts";
import { modelMetadataEntry, vitMetadata } from "../../src/models/model_metadata.ts";
import { createVit } from "../../src/models/vit.ts";
import { writeSafetensors } from "../../src/torch/index.ts";
import { scratchDir } from "../helpers/videos.ts";

/** A mask from rows of digits. */
const mask = (...rows: string[]) => ({
  width: rows[0].length,
  height: rows.length,
  data: Uint8Array.from(rows.join(""), Number),
});
const bits = (...rows: string[]) => mask(...rows).data;

test("best IoU per object: perfect is 1, disjoint is 0, half overlaps as counted by hand", () => {
  const truth = mask("1100", "1122");
  assert.deepEqual(bestMatches(truth, [bits("1100", "1100"), bits("0000", "0011")]), [1, 1]);
  assert.deepEqual(bestMatches(truth, [bits("0011", "0000")]), [0, 0]);
  // Object 1 is 4 pixels and the first mask 5, sharing 2: IoU 2 / 7. Object 2 is 2 pixels: the
  // first mask shares 1 of them (1 / 6), the second is exactly its right half (1 / 2).
  assert.deepEqual(bestMatches(truth, [bits("1111", "0010"), bits("0000", "0001")]), [2 / 7, 1 / 2]);
  // Void (255) and background are no objects.
  assert.deepEqual(bestMatches({ width: 2, height: 1, data: Uint8Array.of(0, 255) }, [bits("11")]), []);
  assert.deepEqual(summarizeDiscovery([1, 0.6, 0.5, 0]), { meanIou: 0.525, found: 0.5, objects: 4 });
  assert.deepEqual(summarizeDiscovery([]), { meanIou: 0, found: 0, objects: 0 });
});

test("eval discovery scores a tour's held-out sequences in one JSON line", async () => {
  const dir = scratchDir();
  const tour = join(dir, "tour");
  await buildTour({
    out: tour,
    seed: 4,
    width: 64,
    height: 48,
    fps: 10,
    seconds: 2,
    density: 3,
    photos: 2,
    sequences: 2,
    sequenceFrames: 6,
  });
  const vit = createVit("vit_tiny", { patchSize: 8, imageSize: 32 });
  const weights = join(dir, "vit.safetensors");
  writeSafetensors(weights, vit.stateDict(), modelMetadataEntry(vitMetadata(vit, "vit_tiny")));
  const cli = fileURLToPath(new URL("../../bin/onevideo.js", import.meta.url));
  const run = spawnSync(
    process.execPath,
    [cli, "eval", "discovery", "--checkpoint", weights, "--tour", tour, "--size", "32", "--clip-length", "3"],
    { encoding: "utf8" },
  );
  assert.equal(run.status, 0, run.stderr);
  const result = JSON.parse(run.stdout) as {
    meanIou: number;
    found: number;
    objects: number;
    sequences: { name: string; meanIou: number; objects: number }[];
  };
  assert.equal(result.sequences.length, 2);
  assert.ok(result.objects > 0, "objects were scored");
  assert.equal(result.objects, result.sequences[0].objects + result.sequences[1].objects);
  assert.ok(result.meanIou >= 0 && result.meanIou <= 1 && result.found >= 0 && result.found <= 1);
  // The overall mean is the object-weighted mean of the sequences'.
  const weighted = result.sequences.reduce((sum, s) => sum + s.meanIou * s.objects, 0) / result.objects;
  assert.ok(Math.abs(weighted - result.meanIou) < 1e-3);
});
