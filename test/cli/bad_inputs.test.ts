// Bad input, across every command: exit code 2 for a command line that does not parse, 1 for
// a failure at work, exactly one line on stderr naming the input
// and the fix, no stack trace, and every file that was there before is byte for byte the same.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { vitMetadata, modelMetadataEntry } from "../../src/models/model_metadata.ts";
import { createVit } from "../../src/models/vit.ts";
import { writeSafetensors } from "../../src/torch/index.ts";
import { folderSnapshot } from "../helpers/files.ts";
import { scratchDir, syntheticVideo, vtest } from "../helpers/videos.ts";

const cli = fileURLToPath(new URL("../../bin/onevideo.js", import.meta.url));
const dir = scratchDir();
const files = join(dir, "files"); // everything a case could touch lives here
mkdirSync(files);
const notes = join(files, "notes.txt");
writeFileSync(notes, "not a video");
const short = syntheticVideo(join(files, "short.mp4"), 5);
const folder = join(files, "my-folder"); // a user's folder that is not a run
mkdirSync(folder);
writeFileSync(join(folder, "weights.safetensors"), "my own weights");
writeFileSync(join(folder, "metrics.jsonl"), '{"mine": 1}\n');
const empty = join(files, "empty");
mkdirSync(empty);
const badYaml = join(files, "bad.yaml");
writeFileSync(badYaml, "arch: [vit_tiny\nsteps: {\n");
const typo = join(files, "typo.yaml");
writeFileSync(typo, "archh: vit_tiny\n");
const images = join(files, "images");
mkdirSync(join(images, "a"), { recursive: true });
const vit = createVit("vit_tiny", { patchSize: 16, imageSize: 32 });
const weights = join(files, "vit.safetensors");
writeSafetensors(weights, vit.stateDict(), modelMetadataEntry(vitMetadata(vit, "vit_tiny")));
const missing = join(files, "missing");
const v = ["--video", vtest];

const cases: [string[], 1 | 2, RegExp, Record<string, string>?][] = [
  // pretrain: where it writes
  [
    ["pretrain", ...v, "--out", folder],
    1,
    /--out .*my-folder holds files and is not a run folder; give an empty or new folder/,
  ],
  [["pretrain", ...v, "--out", notes], 1, /--out .*notes\.txt is a file; give a folder/],
  [
    ["pretrain", ...v, "--out", join(notes, "run")],
    1,
    /cannot write the run to --out .*notes\.txt\/run \(ENOTDIR\)/,
  ],
  [
    ["pretrain", ...v, "--out", "/proc/onevideo-run"],
    1,
    /cannot write the run to --out \/proc\/onevideo-run/,
  ],
  [["pretrain", "--resume", "--out", folder], 1, /--resume: .*my-folder holds no run \(no config\.json\)/],
  [["pretrain", "--resume", ...v], 2, /--resume needs --out/],
  // pretrain: options
  [["pretrain", ...v, "--patch-size", "7"], 2, /invalid option --patch-size: 7 is not one of 8, 16/],
  [["pretrain", ...v, "--batch-size", "many"], 2, /invalid option --batch-size: 'many' is not a number/],
  [["pretrain", ...v, "--steps"], 2, /--steps needs a value/],
  [["pretrain", ...v, "--steps", "0"], 2, /invalid option --steps: /],
  [
    ["pretrain", ...v, "--batch-sise", "3"],
    2,
    /unknown option 'batchSise' for pretrain \(did you mean --batch-size\?\)/,
  ],
  [["pretrain", ...v, "--norm-last-layer=yes"], 2, /--norm-last-layer takes no value/],
  [["pretrain", ...v, "extra"], 2, /unexpected argument 'extra'/],
  [["pretrain", ...v, "--image-size", "60"], 2, /--image-size: 60 is not a multiple of the patch size 16/],
  [
    ["pretrain", ...v, "--arch", "vit_huge"],
    2,
    /--arch: "vit_huge" is not one of vit_nano, vit_tiny, vit_small, vit_base/,
  ],
  [
    ["pretrain", ...v, "--method", "byol"],
    2,
    /--method byol is not one onevideo trains; use dino, dora, vader/,
  ],
  [["pretrain", ...v, "--preset", "fast"], 2, /--preset fast is not one onevideo has; use demo/],
  [
    ["pretrain", ...v, "--config", badYaml],
    2,
    /config file .*bad\.yaml is not valid JSON\/YAML of options \(.* at line \d+, column \d+\)/,
  ],
  [["pretrain", ...v, "--config", typo], 2, /unknown option 'archh' \(did you mean 'arch'\?\)/],
  [["pretrain", ...v, "--config", join(files, "none.yaml")], 1, /config file not found/],
  [
    ["pretrain", ...v, "--device", "cuda"],
    1,
    /--device cuda: this libtorch has no CUDA or no GPU is visible; use --device cpu/,
  ],
  [["pretrain", ...v, "--device", "gpu"], 2, /invalid option --device: use cpu, cuda or cuda:N/],
  [["pretrain", ...v, "--precision", "fp16"], 1, /--precision fp16 needs a GPU/],
  [["pretrain", ...v, "--dataset", "fashion-mnist"], 2, /give one of --video, --images and --dataset/],
  [
    ["pretrain", "--method", "dora", ...v, "--objects", "9"],
    2,
    /--objects: 9 objects need as many heads, and vit_small has 6/,
  ],
  [["pretrain", "--method", "dora", "--images", images], 2, /DoRA learns from a video's clips; give --video/],
  [["pretrain", "--method", "vader", ...v, "--image-size", "100"], 2, /100 is not a multiple of 32/],
  [["pretrain", ...v, "--nproc-per-node", "0"], 2, /--nproc-per-node 0: give an integer >= 1/],
  [["pretrain", ...v, "--threads"], 2, /unknown option 'threads' for pretrain/],
  [
    ["pretrain", ...v, "--steps", "3"],
    1,
    /ONEVIDEO_THREADS=abc is not a positive whole number/,
    { ONEVIDEO_THREADS: "abc" },
  ],
  // pretrain: the data
  [["pretrain"], 2, /give the footage to learn from: --video <file>/],
  [["pretrain", "--video", missing], 1, /video not found: .*missing/],
  [["pretrain", "--video", notes], 1, /notes\.txt is not a video ffmpeg can read/],
  [
    ["pretrain", "--video", short, "--out", join(files, "short-run")],
    1,
    /has 5 frames, shorter than one clip \(481 frames\)/,
  ],
  [["pretrain", "--images", notes], 1, /notes\.txt is a file, not a folder/],
  [["pretrain", "--images", missing], 1, /image folder not found/],
  [["demo", "--out", folder], 1, /holds files and is not a run folder/],
  // evaluation
  [["eval", "knn", "--dataset", "fashion-mnist"], 2, /eval knn needs --checkpoint/],
  [["eval", "knn", "--checkpoint", missing, "--dataset", "fashion-mnist"], 1, /checkpoint not found/],
  [
    ["eval", "knn", "--checkpoint", notes, "--dataset", "fashion-mnist"],
    1,
    /cannot read .*notes\.txt as a checkpoint/,
  ],
  [
    ["eval", "knn", "--checkpoint", empty, "--dataset", "fashion-mnist"],
    1,
    /neither weights\.safetensors nor a checkpoint; train it first/,
  ],
  [
    ["eval", "linear", "--checkpoint", weights, "--dataset", "fashion-mnist", "--epochs", "zero"],
    2,
    /'zero' is not a number/,
  ],
  [["eval", "dense", "--checkpoint", weights, "--tour", folder], 1, /is not a tour folder \(no tour\.json\)/],
  [
    ["eval", "davis", "--checkpoint", weights, "--davis", missing, "--out", join(files, "masks")],
    1,
    /missing/,
  ],
  [["eval", "davis-score", "--gt", folder], 2, /eval davis-score needs --pred/],
  [["eval", "frobnicate"], 2, /unknown eval subcommand 'frobnicate'/],
  // pictures, tours, analysis
  [["attention", "--checkpoint", weights, "--image", missing, "--out", join(files, "att")], 1, /not found/],
  [
    ["attention", "--checkpoint", weights, "--image", notes, "--out", join(files, "att"), "--block", "99"],
    1,
    /--block 99: the encoder has 12 blocks/,
  ],
  [
    ["track", "--checkpoint", weights, "--video", vtest, "--out", join(files, "tr"), "--heads", "0,7"],
    1,
    /--heads 7: the encoder has 3 heads \(0 \.\. 2\)/,
  ],
  [
    ["track", "--checkpoint", weights, "--video", short, "--out", join(files, "tr"), "--frames", "30"],
    1,
    /has 5 frames; a clip of 30 frames/,
  ],
  [["tours"], 2, /tours needs --out/],
  [["tours", "--out", join(files, "tour"), "--width", "17"], 2, /--width: must be even/],
  [["analyze"], 2, /give at least one video/],
  [["analyze", notes, "--out", join(files, "analysis")], 1, /notes\.txt is not a video ffmpeg can read/],
  [["analyze", vtest, "--out", notes], 1, /--out .*notes\.txt is a file; give a folder/],
  [["frobnicate"], 2, /unknown command 'frobnicate'/],
  // embedding, export, reports, discovery
  [
    ["embed", "--checkpoint", weights, "--out", join(files, "f.safetensors")],
    2,
    /give one of --images <folder> and --video <file>/,
  ],
  [
    ["embed", "--checkpoint", weights, "--images", empty, "--out", join(files, "f.safetensors")],
    1,
    /--images .*empty holds no image files/,
  ],
  [
    ["embed", "--checkpoint", weights, "--images", images, "--out", notes],
    1,
    /notes\.txt exists; give another --out \(nothing was written\)/,
  ],
  [
    ["export", "--checkpoint", weights, "--image-size", "40", "--out", join(files, "m.onnx")],
    2,
    /--image-size 40 is not a multiple of the encoder's patch size 16/,
  ],
  [
    ["export", "--checkpoint", weights, "--format", "web", "--out", folder],
    1,
    /--out .*my-folder is not empty; give a new or empty folder/,
  ],
  [["export", "--checkpoint", missing, "--out", join(files, "m.onnx")], 1, /checkpoint not found/],
  [["report", folder], 1, /my-folder holds no run \(no config\.json\); give a run folder/],
  [["report"], 2, /give one run folder: onevideo report <run>/],
  [
    ["eval", "discovery", "--checkpoint", weights, "--tour", folder],
    1,
    /is not a tour folder \(no tour\.json\)/,
  ],
  [
    ["pretrain", ...v],
    1,
    /the native addon is not built \(.*missing\); run 'bash scripts\/setup\.sh'/,
    { ONEVIDEO_NATIVE: missing },
  ],
];

test(`${cases.length} bad inputs: exit 2 (usage) or 1, one line naming the input and the fix, no stack trace, files untouched`, () => {
  assert.ok(cases.length >= 40);
  const before = folderSnapshot(files);
  // Run from an empty folder: a run without --out would go to its runs/, and must not be left there.
  const cwd = join(dir, "cwd");
  mkdirSync(cwd);
  for (const [args, code, message, environment] of cases) {
    const result = spawnSync(process.execPath, [cli, ...args], {
      cwd,
      encoding: "utf8",
      env: { ...process.env, ONEVIDEO_CACHE: join(dir, "cache"), ...environment },
    });
    const label = args.join(" ");
    assert.equal(result.status, code, `${label}: exit ${result.status}\n${result.stderr}`);
    const lines = result.stderr.split("\n").filter(Boolean);
    assert.equal(lines.length, 1, `${label}: stderr is not one line:\n${result.stderr}`);
    assert.match(lines[0], /^onevideo: /, label);
    assert.match(lines[0], message, label);
    assert.doesNotMatch(result.stderr, /\n\s+at /, `${label}: a stack trace`);
    assert.deepEqual(folderSnapshot(files), before, `${label}: a file changed`);
    assert.deepEqual(readdirSync(cwd, { recursive: true }), [], `${label}: it left something behind`);
  }
});

test("--help and --version work where the native addon is not built", () => {
  for (const args of [
    ["--help"],
    ["--version"],
    ["pretrain", "--help"],
    ["eval", "knn", "--help"],
    ["tours", "--help"],
  ]) {
    const result = spawnSync(process.execPath, [cli, ...args], {
      encoding: "utf8",
      env: { ...process.env, ONEVIDEO_NATIVE: missing },
    });
    assert.equal(result.status, 0, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stdout, args[0] === "--version" ? /^\d+\.\d+\.\d+\n$/ : /usage: onevideo/);
  }
});
