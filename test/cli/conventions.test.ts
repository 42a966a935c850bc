// What people expect of a command line: results on stdout and progress on stderr, --json as
// the last stdout line, a config file as the flags are spelled, a run's own config.json
// replaying it, and every run recording what it ran with.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { methodNames } from "../../src/pretrain/registry.ts";
import { Progress } from "../../src/util/progress.ts";
import { scratchDir } from "../helpers/videos.ts";

const cli = fileURLToPath(new URL("../../bin/onevideo.js", import.meta.url));
const dir = scratchDir();
const onevideo = (...args: string[]) => {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};
const tiny = [
  "pretrain",
  "--preset",
  "demo",
  "--dataset",
  "fashion-mnist",
  "--steps",
  "2",
  "--log-every",
  "1",
];
const losses = (run: string) =>
  readFileSync(join(run, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => (JSON.parse(line) as { loss: number }).loss);

test("stdout holds the results only; the progress is on stderr; --json makes the result one JSON line", () => {
  const text = onevideo(...tiny, "--out", join(dir, "text"));
  assert.equal(text.code, 0, text.stderr);
  assert.deepEqual(text.stdout.trim().split("\n"), [
    text.stdout.split("\n")[0],
    `weights: ${join(dir, "text", "weights.safetensors")}`,
    join(dir, "text"),
  ]);
  assert.match(text.stdout, /^trained 2 steps: loss \d+\.\d{4} -> \d+\.\d{4}\n/);
  assert.match(text.stderr, /^step 1\/2 .*\nstep 2\/2 /m);

  const json = onevideo(...tiny, "--out", join(dir, "json"), "--json");
  assert.equal(json.code, 0, json.stderr);
  assert.equal(json.stdout.split("\n").length, 2, "one line");
  const summary = JSON.parse(json.stdout) as Record<string, unknown>;
  assert.deepEqual(Object.keys(summary).sort(), ["firstLoss", "lastLoss", "runDir", "steps", "weights"]);
  assert.equal(summary.steps, 2);
  assert.deepEqual(losses(join(dir, "json")).slice(-1), [summary.lastLoss]);
});

test("a run's config.json replays it, and environment.json records what it ran with", () => {
  const first = join(dir, "text");
  const replay = join(dir, "replay");
  const run = onevideo("pretrain", "--config", join(first, "config.json"), "--out", replay);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(losses(replay), losses(first));
  const config = (path: string) => JSON.parse(readFileSync(join(path, "config.json"), "utf8")) as object;
  assert.deepEqual({ ...config(replay), out: "" }, { ...config(first), out: "" });

  const [start, ...more] = JSON.parse(readFileSync(join(replay, "environment.json"), "utf8")) as Record<
    string,
    unknown
  >[];
  assert.equal(more.length, 0, "one start");
  const version = (
    JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
  ).version;
  assert.equal(start.onevideo, version);
  assert.match(String(start.gitCommit), /^[0-9a-f]{40}(-dirty)?$/);
  assert.match(String(start.libtorch), /^\d+\.\d+\.\d+/);
  assert.equal(start.device, "cpu");
  assert.equal(start.worldSize, 1);
  assert.equal(start.startStep, 0);
  assert.ok(Number(start.threads) >= 1);
});

test("a config file takes keys as the flags spell them, and a preset", () => {
  const file = join(dir, "options.yaml");
  writeFileSync(file, "preset: demo\ndataset: fashion-mnist\nbatch-size: 4\nsteps: 1\nlocalCrops: 1\n");
  const run = onevideo("pretrain", "--config", file, "--out", join(dir, "from-file"), "--json");
  assert.equal(run.code, 0, run.stderr);
  const config = JSON.parse(readFileSync(join(dir, "from-file", "config.json"), "utf8")) as Record<
    string,
    unknown
  >;
  assert.equal(config.batchSize, 4);
  assert.equal(config.localCrops, 1);
  assert.equal(config.arch, "vit_tiny"); // the demo preset's, not the default vit_small
  writeFileSync(file, "batch-size: 4\nbatchSize: 8\n");
  const twice = onevideo("pretrain", "--config", file, "--dataset", "fashion-mnist");
  assert.equal(twice.code, 2);
  assert.match(
    twice.stderr,
    /^onevideo: config file .*options\.yaml gives 'batchSize' twice \(as batchSize too\)\n$/,
  );
});

test("--version is package.json's; the top-level help names every method and command", () => {
  const version = (
    JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
  ).version;
  assert.equal(onevideo("--version").stdout, `${version}\n`);
  const help = onevideo("--help").stdout;
  for (const name of methodNames) assert.match(help, new RegExp(`\\b${name}\\b`), name);
  for (const name of [
    "pretrain",
    "demo",
    "eval",
    "embed",
    "export",
    "doctor",
    "analyze",
    "tours",
    "track",
    "attention",
  ]) {
    assert.match(help, new RegExp(`^  ${name} `, "m"), name);
  }
});

test("on a terminal the live line leaves the logged steps behind as lines", () => {
  const written: string[] = [];
  const { isTTY } = process.stderr;
  const write = process.stderr.write;
  process.stderr.isTTY = true;
  process.stderr.write = ((chunk: string) => written.push(chunk) > 0) as typeof process.stderr.write;
  try {
    const progress = new Progress(4, "step");
    for (let step = 1; step <= 4; step++) progress.update(step, `loss ${step}`, 0, step % 2 === 0);
    progress.finish();
  } finally {
    process.stderr.write = write;
    process.stderr.isTTY = isTTY;
  }
  // What a terminal shows: each \r returns to the line's start and \x1b[K clears it.
  const screen = written
    .join("")
    .split("\n")
    .map((line) => line.split("\r").at(-1)!.replace("\x1b[K", ""));
  assert.deepEqual(
    screen.map((line) => line.split("  ")[0]),
    ["step 2/4", "step 4/4", ""],
  );
});
