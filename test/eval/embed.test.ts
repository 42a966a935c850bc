// onevideo embed: the features of real photos equal those of the same weights in python3-torch's
// reading of DINO's ViT on the same preprocessed pixels; every format and token choice; a video's
// sampled frames; unreadable images skipped and listed (or, with --strict, the end); nothing
// existing overwritten.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { normalizeImages } from "../../src/augment/photometric.ts";
import { readCenterCrop } from "../../src/data/image_file.ts";
import { listPhotos } from "../../src/data/tours/photos.ts";
import { modelMetadataEntry, vitMetadata } from "../../src/models/model_metadata.ts";
import { createVit } from "../../src/models/vit.ts";
import { manualSeed, readSafetensors, stack, tensor, writeSafetensors } from "../../src/torch/index.ts";
import { maxAbsDiff, referencePython, runTorch } from "../helpers/python.ts";
import { scratchDir, vtest } from "../helpers/videos.ts";

const cli = fileURLToPath(new URL("../../bin/onevideo.js", import.meta.url));
const onevideo = (...args: string[]) => {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};
const dir = scratchDir();
manualSeed(3);
const vit = createVit("vit_tiny", { patchSize: 16, imageSize: 64 });
const weights = join(dir, "vit.safetensors");
writeSafetensors(weights, vit.stateDict(), modelMetadataEntry(vitMetadata(vit, "vit_tiny")));

// Three real photographs, one in a subfolder, and a file that only looks like an image.
const photos = join(dir, "photos");
mkdirSync(join(photos, "more"), { recursive: true });
const chosen = listPhotos().slice(0, 3);
const inputs = [join(photos, "a.jpg"), join(photos, "b.jpg"), join(photos, "more", "c.jpg")];
chosen.forEach((photo, i) => copyFileSync(photo, inputs[i]));
writeFileSync(join(photos, "broken.jpg"), "not a JPEG");

test("[CLS] features of real photos equal python3-torch's DINO ViT on the same pixels, to 1e-5", () => {
  const out = join(dir, "cls", "features.safetensors");
  const run = onevideo("embed", "--checkpoint", weights, "--images", photos, "--out", out, "--json");
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /^onevideo: skipped .*broken\.jpg: .*not an image ffmpeg can read$/m);
  const result = JSON.parse(run.stdout) as { shape: number[]; index: string; skipped: { path: string }[] };
  assert.deepEqual(result.shape, [3, 192]);
  const index = JSON.parse(readFileSync(result.index, "utf8")) as {
    rows: { row: number; path: string }[];
    skipped: { path: string }[];
    size: number;
  };
  assert.deepEqual(
    index.rows.map((row) => row.path),
    inputs,
  );
  assert.deepEqual(
    index.skipped.map((row) => row.path),
    [join(photos, "broken.jpg")],
  );
  assert.equal(index.size, 64);

  // The evaluation view's pixels, normalised, through the reference ViT with the same weights.
  const pixels = stack(
    inputs.map((path) => {
      const view = readCenterCrop(path, 64);
      return tensor(view.data, { shape: [64, 64, 3] })
        .permute(2, 0, 1)
        .float()
        .div(255);
    }),
  );
  const tensors = new Map([["images", normalizeImages(pixels)]]);
  for (const [name, value] of vit.stateDict()) tensors.set(`model.${name}`, value);
  const reference = runTorch(
    `
from vit import VisionTransformer
model = VisionTransformer(image_size=64, patch=16, dim=192, depth=12, heads=3)
model.load_state_dict({k[6:]: v for k, v in inputs.items() if k.startswith("model.")})
model.eval()
with torch.no_grad():
    cls, patches = model(inputs["images"])
outputs["cls"] = cls
outputs["pooled"] = patches.mean(1)
`,
    tensors,
  );
  const features = readSafetensors(out).tensors.get("features")!;
  const difference = maxAbsDiff(features, reference.get("cls")!);
  assert.ok(difference < 1e-5, `max |difference| ${difference}`);

  // Pooled patch tokens, as .npy: numpy reads the file, and the rows are the reference's.
  const npy = join(dir, "pooled.npy");
  const pooled = onevideo(
    "embed",
    ...["--checkpoint", weights, "--images", photos, "--out", npy, "--tokens", "pooled", "--format", "npy"],
  );
  assert.equal(pooled.code, 0, pooled.stderr);
  const read = spawnSync(
    referencePython,
    [
      "-c",
      `import numpy; a = numpy.load(${JSON.stringify(npy)}); print(a.dtype, a.shape); print(*a[:, :4].ravel())`,
    ],
    { encoding: "utf8" },
  );
  assert.equal(read.status, 0, read.stderr);
  const [kind, ...values] = read.stdout.trim().split("\n");
  assert.equal(kind, "float32 (3, 192)");
  const expected = reference.get("pooled")!.narrow(1, 0, 4).contiguous().data() as Float32Array;
  values[0]
    .split(" ")
    .map(Number)
    .forEach((value, i) =>
      assert.ok(Math.abs(value - expected[i]) < 1e-5, `pooled ${i}: ${value} vs ${expected[i]}`),
    );

  // Every patch token: [inputs, patches, dim].
  const patchOut = join(dir, "patch.safetensors");
  const patch = onevideo(
    "embed",
    "--checkpoint",
    weights,
    "--images",
    photos,
    "--out",
    patchOut,
    "--tokens",
    "patch",
  );
  assert.equal(patch.code, 0, patch.stderr);
  assert.deepEqual(readSafetensors(patchOut).tensors.get("features")!.shape, [3, 16, 192]);
});

test("a video's frames at --fps, indexed by frame and time", () => {
  const out = join(dir, "video.safetensors");
  const run = onevideo(
    "embed",
    "--checkpoint",
    weights,
    "--video",
    vtest,
    "--fps",
    "1",
    "--out",
    out,
    "--json",
  );
  assert.equal(run.code, 0, run.stderr);
  const result = JSON.parse(run.stdout) as { shape: number[]; index: string };
  // vtest.avi: 795 frames at 10 fps; one a second is every 10th.
  assert.deepEqual(result.shape, [80, 192]);
  const { rows } = JSON.parse(readFileSync(result.index, "utf8")) as {
    rows: { frame: number; time: number }[];
  };
  assert.deepEqual(rows.slice(0, 3), [
    { row: 0, frame: 0, time: 0 },
    { row: 1, frame: 10, time: 1 },
    { row: 2, frame: 20, time: 2 },
  ]);
  assert.deepEqual(rows.at(-1), { row: 79, frame: 790, time: 79 });
});

test("--strict stops at an unreadable image; an existing --out is left alone; bad flags are usage errors", () => {
  const out = join(dir, "strict.safetensors");
  const strict = onevideo("embed", "--checkpoint", weights, "--images", photos, "--out", out, "--strict");
  assert.equal(strict.code, 1);
  assert.match(
    strict.stderr.trim().split("\n").at(-1)!,
    /^onevideo: .*broken\.jpg is not an image ffmpeg can read$/,
  );
  assert.ok(!existsSync(out) && !existsSync(join(dir, "strict.index.json")), "nothing written");

  const existing = join(dir, "mine.safetensors");
  writeFileSync(existing, "my own file");
  const refused = onevideo("embed", "--checkpoint", weights, "--images", photos, "--out", existing);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /^onevideo: .*mine\.safetensors exists; give another --out \(nothing was written\)\n$/,
  );
  assert.equal(readFileSync(existing, "utf8"), "my own file");

  const both = onevideo("embed", "--checkpoint", weights, "--images", photos, "--video", vtest, "--out", out);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /^onevideo: give one of --images <folder> and --video <file>\n$/);
  const fps = onevideo("embed", "--checkpoint", weights, "--images", photos, "--fps", "2", "--out", out);
  assert.equal(fps.code, 2);
  assert.match(fps.stderr, /--fps needs --video/);
});

test("Ctrl-C stops it between batches: one line, exit 130, nothing written or left behind", async () => {
  const folder = join(dir, "stopped");
  mkdirSync(folder);
  writeFileSync(join(folder, "mine.txt"), "mine");
  const child = spawn(process.execPath, [
    cli,
    "embed",
    "--checkpoint",
    weights,
    "--video",
    vtest,
    "--batch-size",
    "8",
    "--out",
    join(folder, "f.safetensors"),
  ]);
  let stderr = "";
  const ended = new Promise<number | null>((resolve) => child.on("close", resolve));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  // Once the first batch's rows are on disk, ask it to stop.
  const rows = () => readdirSync(folder).find((name) => name.includes(".rows.tmp-"));
  while (child.exitCode === null && !(rows() && statSync(join(folder, rows()!)).size > 0)) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill("SIGINT");
  assert.equal(await ended, 130, stderr);
  assert.match(
    stderr
      .trim()
      .split(/[\r\n]/)
      .at(-1)!,
    /^onevideo: embed stopped by SIGINT; nothing was written$/,
  );
  assert.deepEqual(readdirSync(folder), ["mine.txt"]);
});
