// The command line: help, and one clear line with a non-zero exit for each bad input.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { scratchDir, syntheticVideo, vtest } from "../helpers/videos.ts";

const cli = fileURLToPath(new URL("../../bin/onevideo.js", import.meta.url));
const dir = scratchDir();

function onevideo(...args: string[]) {
  const result = spawnSync(process.execPath, [cli, ...args], {
    encoding: "utf8",
    env: { ...process.env, ONEVIDEO_CACHE: join(dir, "cache") },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test("--help documents every option", () => {
  const { code, stdout } = onevideo("pretrain", "--help");
  assert.equal(code, 0);
  for (const flag of [
    "--video",
    "--arch",
    "--patch-size",
    "--image-size",
    "--steps",
    "--epochs",
    "--batch-size",
    "--local-crops",
    "--config",
    "--resume",
    "--seed",
    "--teacher-temperature",
  ]) {
    assert.match(stdout, new RegExp(`${flag}\\b`), flag);
  }
  const dora = onevideo("pretrain", "--method", "dora", "--help").stdout;
  for (const flag of [
    "--objects",
    "--attention-block",
    "--sinkhorn-iterations",
    "--sinkhorn-epsilon",
    "--clip-length",
  ])
    assert.match(dora, new RegExp(`${flag}\\b`), flag);
  assert.match(onevideo("--help").stdout, /pretrain/);
});

test("bad inputs get one line naming the input and the fix, and exit 2 (usage) or 1", () => {
  const notes = join(dir, "notes.txt");
  writeFileSync(notes, "not a video");
  const short = syntheticVideo(join(dir, "short.mp4"), 5);
  const badConfig = join(dir, "bad.yaml");
  writeFileSync(badConfig, "arch: vit_huge\n");
  const cases: [string[], 1 | 2, RegExp][] = [
    [["frobnicate"], 2, /unknown command 'frobnicate'/],
    [["pretrain", "--video", vtest, "--colour", "red"], 2, /unknown option 'colour'/],
    [["pretrain", "--video", vtest, "--batch-size", "many"], 2, /invalid option --batch-size/],
    [
      ["pretrain", "--video", vtest, "--image-size", "60"],
      2,
      /--image-size: 60 is not a multiple of the patch size 16/,
    ],
    [["pretrain", "--video", vtest, "--arch", "vit_huge"], 2, /invalid option --arch/],
    [
      ["pretrain", "--video", vtest, "--method", "byol"],
      2,
      /--method byol is not one onevideo trains; use dino, dora, vader/,
    ],
    [["pretrain"], 2, /give the footage to learn from: --video <file>/],
    [["pretrain", "--images", join(dir, "no-such-folder")], 1, /image folder not found/],
    [["pretrain", "--video", join(dir, "missing.mp4")], 1, /video not found: .*missing\.mp4/],
    [["pretrain", "--video", notes], 1, /is not a video ffmpeg can read/],
    [["pretrain", "--video", short], 1, /has 5 frames, shorter than one clip \(481 frames\)/],
    [["pretrain", "--video", vtest, "--config", join(dir, "none.yaml")], 1, /config file not found/],
    [["pretrain", "--video", vtest, "--config", badConfig], 2, /invalid option --arch/],
    [
      [
        "pretrain",
        "--video",
        vtest,
        "--out",
        join(dir, "fresh"),
        "--resume",
        "--image-size",
        "32",
        "--patch-size",
        "8",
        "--clip-spacing",
        "100",
      ],
      1,
      /--resume: .*fresh holds no run \(no config\.json\); start one without --resume/,
    ],
    [
      [
        "pretrain",
        "--video",
        vtest,
        "--image-size",
        "32",
        "--patch-size",
        "8",
        "--batch-size",
        "100000",
        "--out",
        join(dir, "big"),
      ],
      1,
      /--batch-size 100000 is larger than the data/,
    ],
  ];
  const existing = join(dir, "existing");
  mkdirSync(existing);
  writeFileSync(join(existing, "config.json"), "{}");
  cases.push([
    ["pretrain", "--video", vtest, "--out", existing],
    1,
    /holds a run stopped before its first checkpoint; add --resume to start it again from step 0/,
  ]);
  for (const [args, exitCode, expected] of cases) {
    const { code, stderr } = onevideo(...args);
    assert.equal(code, exitCode, `${args.join(" ")}: exit ${code}, ${stderr}`);
    assert.match(stderr, expected, args.join(" "));
    // The frame store's progress may come first; the error is one line, the last.
    const errors = stderr
      .trim()
      .split("\n")
      .filter((line) => line.startsWith("onevideo: "));
    assert.equal(errors.length, 1, `one line for ${args.join(" ")}: ${stderr}`);
    assert.ok(stderr.trim().endsWith(errors[0]), `the error ends stderr: ${stderr}`);
  }
  assert.equal(readFileSync(join(existing, "config.json"), "utf8"), "{}", "the existing run is untouched");
});
