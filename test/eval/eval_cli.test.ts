// onevideo eval davis-score: one JSON line on success, one error line and exit 1 on bad input.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { writeIndexMask } from "../../src/data/davis.ts";
import { writePng } from "../../src/viz/png.ts";
import { scratchDir } from "../helpers/videos.ts";
import { paint, writeDavisFixture } from "./davis_fixture.ts";

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
  assert.match(help.stdout, /davis-score --pred <dir> --gt <dir>/);
  const options = onevideo("eval", "davis-score", "--help").stdout;
  for (const flag of ["--pred", "--gt", "--split", "--sequences", "--exclude-void"])
    assert.match(options, new RegExp(flag));
});

test("bad inputs get one line naming the input and the fix, and exit 1", () => {
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
  const cases: [string[], RegExp][] = [
    [["eval", "frobnicate"], /unknown eval subcommand 'frobnicate'/],
    [["eval", "davis-score", "--gt", gt], /davis-score needs --pred <dir>/],
    [["eval", "davis-score", "--pred", pred, "--gt", gt, "--colour", "red"], /unknown option 'colour'/],
    [["eval", "davis-score", "--pred", missing, "--gt", gt], /prediction frame missing: .*a\/00001\.png/],
    [["eval", "davis-score", "--pred", small, "--gt", gt], /00002\.png is 6x5 but its annotation is 12x10/],
    [["eval", "davis-score", "--pred", rgb, "--gt", gt], /00001\.png is an RGB PNG/],
    [
      ["eval", "davis-score", "--pred", highId, "--gt", gt],
      /holds object id 7 but the sequence has 2 objects/,
    ],
    [["eval", "davis-score", "--pred", pred, "--gt", join(dir, "nowhere")], /folder not found: .*nowhere/],
  ];
  for (const [args, expected] of cases) {
    const { code, stdout, stderr } = onevideo(...args);
    assert.equal(code, 1, `${args.join(" ")}: exit ${code}, ${stderr}`);
    assert.match(stderr, expected, args.join(" "));
    assert.equal(stderr.trim().split("\n").length, 1, `one line for ${args.join(" ")}: ${stderr}`);
    assert.equal(stdout, "", "no partial score");
  }
});
