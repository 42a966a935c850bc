// onevideo eval: one JSON line on success, one error line and exit 1 on bad input.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { writeIndexMask } from "../../src/data/davis.ts";
import { createVit } from "../../src/models/vit.ts";
import { writeSafetensors } from "../../src/torch/index.ts";
import { writePng } from "../../src/image/png.ts";
import { scratchDir, syntheticImage } from "../helpers/videos.ts";
import { paint, writeDavisFixture, writeStaticDavis } from "../helpers/davis_fixture.ts";

const cli = fileURLToPath(new URL("../../bin/onevideo.js", import.meta.url));
const dir = scratchDir();
const { gt, pred } = writeDavisFixture(dir);

function onevideo(...args: string[]) {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test("davis-score prints one JSON line with J, F, JF and the sequences", () => {
  const { code, stdout, stderr } = onevideo("eval", "davis-score", "--pred", pred, "--gt", gt);
  assert.equal(code, 0, stderr);
  const lines = stdout.trim().split("\n");
  assert.equal(lines.length, 1);
  const score = JSON.parse(lines[0]);
  assert.deepEqual(Object.keys(score), ["J", "F", "JF", "sequences"]);
  assert.ok(Math.abs(score.J - (3 / 4 + 1 / 2 + 1 / 2) / 3) < 1e-12, "the fixture's hand-worked J");
  assert.deepEqual(Object.keys(score.sequences), ["a", "b"]);
  assert.deepEqual(Object.keys(score.sequences.a.objects), ["1", "2"]);
  const voidless = JSON.parse(
    onevideo("eval", "davis-score", "--pred", pred, "--gt", gt, "--exclude-void").stdout,
  );
  assert.deepEqual(voidless.sequences.b.objects["1"], { J: 1, F: 1 });
});

test("help lists the subcommands and options", () => {
  assert.match(onevideo("--help").stdout, /eval/);
  const help = onevideo("eval", "--help");
  assert.equal(help.code, 0);
  for (const subcommand of ["knn", "davis", "davis-score"])
    assert.match(help.stdout, new RegExp(`^  ${subcommand} `, "m"));
  for (const [subcommand, flags] of [
    ["knn", ["--checkpoint", "--dataset", "--train", "--test", "--k", "--temperature"]],
    ["davis", ["--checkpoint", "--davis", "--out", "--top-k", "--neighborhood", "--context-frames"]],
  ] as const) {
    const text = onevideo("eval", subcommand, "--help").stdout;
    for (const flag of flags) assert.match(text, new RegExp(`${flag} `), `${subcommand} ${flag}`);
  }
  const options = onevideo("eval", "davis-score", "--help").stdout;
  for (const flag of ["--pred", "--gt", "--split", "--sequences", "--exclude-void"])
    assert.match(options, new RegExp(flag));
});

test("bad inputs get one line naming the input and the fix, and exit 2 (usage) or 1", () => {
  const broken = (name: string, change: (predDir: string) => void): string => {
    const copy = join(dir, name);
    cpSync(pred, copy, { recursive: true });
    change(copy);
    return copy;
  };
  const missing = broken("missing", (p) => rmSync(join(p, "a", "00001.png")));
  const small = broken("small", (p) => writeIndexMask(join(p, "a", "00002.png"), paint(6, 5)));
  const rgb = broken("rgb", (p) =>
    writePng(join(p, "b", "00001.png"), { width: 10, height: 8, channels: 3, data: new Uint8Array(240) }),
  );
  const highId = broken("high", (p) =>
    writeIndexMask(join(p, "a", "00001.png"), paint(12, 10, [7, 0, 0, 0, 0])),
  );
  const cases: [string[], 1 | 2, RegExp][] = [
    [["eval", "frobnicate"], 2, /unknown eval subcommand 'frobnicate'/],
    [["eval", "davis-score", "--gt", gt], 2, /davis-score needs --pred;/],
    [["eval", "davis-score", "--pred", pred, "--gt", gt, "--colour", "red"], 2, /unknown option 'colour'/],
    [["eval", "davis-score", "--pred", missing, "--gt", gt], 1, /prediction frame missing: .*a\/00001\.png/],
    [
      ["eval", "davis-score", "--pred", small, "--gt", gt],
      1,
      /00002\.png is 6x5 but its annotation is 12x10/,
    ],
    [["eval", "davis-score", "--pred", rgb, "--gt", gt], 1, /00001\.png is an RGB PNG/],
    [
      ["eval", "davis-score", "--pred", highId, "--gt", gt],
      1,
      /holds object id 7 but the sequence has 2 objects/,
    ],
    [["eval", "davis-score", "--pred", pred, "--gt", join(dir, "nowhere")], 1, /folder not found: .*nowhere/],
  ];
  for (const [args, exitCode, expected] of cases) {
    const { code, stdout, stderr } = onevideo(...args);
    assert.equal(code, exitCode, `${args.join(" ")}: exit ${code}, ${stderr}`);
    assert.match(stderr, expected, args.join(" "));
    assert.equal(stderr.trim().split("\n").length, 1, `one line for ${args.join(" ")}: ${stderr}`);
    assert.equal(stdout, "", "no partial score");
  }
});

/** A random ViT-Tiny/8 at 32 px, saved as onevideo's exported weights. */
function randomWeights(): string {
  const path = join(dir, "random.safetensors");
  writeSafetensors(path, createVit("vit_tiny", { patchSize: 8, imageSize: 32 }).stateDict());
  return path;
}

test("eval knn on ImageFolder sets: solid colours are their own nearest neighbours", () => {
  for (const [split, perClass] of [
    ["train", 3],
    ["test", 1],
  ] as const) {
    for (const colour of ["red", "blue"]) {
      mkdirSync(join(dir, split, colour), { recursive: true });
      for (let i = 0; i < perClass; i++)
        syntheticImage(join(dir, split, colour, `${i}.png`), "40x30", colour);
    }
  }
  const args = ["--checkpoint", randomWeights(), "--train", join(dir, "train"), "--test", join(dir, "test")];
  const { code, stdout, stderr } = onevideo("eval", "knn", ...args, "--k", "3");
  assert.equal(code, 0, stderr);
  const report = JSON.parse(stdout);
  assert.equal(report.size, 32);
  assert.deepEqual(report.results, [{ k: 3, top1: 100, top5: 100 }]);
  const tooMany = onevideo("eval", "knn", ...args, "--k", "20");
  assert.equal(tooMany.code, 1);
  assert.match(tooMany.stderr, /k = 20 is more than the 6 train samples/);
});

test("eval davis segments every frame, writes palette masks and scores them", () => {
  const root = writeStaticDavis(dir);
  const out = join(dir, "segmented");
  const args = ["--checkpoint", randomWeights(), "--davis", root, "--out", out, "--size", "48"];
  const { code, stdout, stderr } = onevideo("eval", "davis", ...args);
  assert.equal(code, 0, stderr);
  const score = JSON.parse(stdout);
  assert.ok(score.JF >= 0 && score.JF <= 1);
  assert.deepEqual(readdirSync(join(out, "still")).sort(), [
    "00000.png",
    "00001.png",
    "00002.png",
    "00003.png",
  ]);
  assert.deepEqual(JSON.parse(readFileSync(join(out, "scores.json"), "utf8")), score);
  const badSize = onevideo("eval", "davis", ...args.slice(0, -1), "36");
  assert.equal(badSize.code, 1);
  assert.match(badSize.stderr, /--size 36 is not a multiple of the encoder's patch size 8/);
});
