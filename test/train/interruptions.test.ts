// Nothing lost, whatever happens to a run: SIGKILLs at random moments (some during checkpoint
// writes), Ctrl-C and SIGTERM, damaged checkpoints and a full disk all end in a run that
// resumes to the very weights of a run that was never interrupted.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { flagName } from "../../src/options.ts";
import { pretrain } from "../../src/pretrain/pretrain.ts";
import { Random } from "../../src/util/random.ts";
import { folderSnapshot } from "../helpers/files.ts";
import { scratchDir, syntheticVideo } from "../helpers/videos.ts";

// One thread everywhere: the in-process runs below must take the CLI runs' very float steps.
process.env.ONEVIDEO_THREADS = "1";
const cli = fileURLToPath(new URL("../../bin/onevideo.js", import.meta.url));
const dir = scratchDir();
const video = syntheticVideo(join(dir, "pattern.mp4"), 48, "96x64");
const cache = join(dir, "cache");
const steps = 12;
const options = {
  video,
  arch: "vit_tiny",
  patchSize: 8,
  imageSize: 16,
  outDim: 64,
  headHiddenDim: 32,
  bottleneckDim: 16,
  localCrops: 1,
  batchSize: 4,
  clipLength: 4,
  clipSpacing: 4,
  frameStride: 1,
  warmupEpochs: 0,
  steps,
  logEvery: 1,
  checkpointEvery: 1,
  device: "cpu",
  cacheDir: cache,
};
const recipe = Object.entries(options).flatMap(([key, value]) => [flagName(key), String(value)]);
const environment = process.env;

function onevideo(...args: string[]) {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", env: environment });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function start(...args: string[]): ChildProcess & { stderrText: () => string } {
  const child = spawn(process.execPath, [cli, ...args], {
    env: environment,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let text = "";
  child.stderr!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  return Object.assign(child, { stderrText: () => text });
}

const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );

/** Lines in a run's metrics.jsonl: how many steps it has logged. */
function loggedSteps(out: string): number {
  const path = join(out, "metrics.jsonl");
  return existsSync(path) ? readFileSync(path, "utf8").split("\n").filter(Boolean).length : 0;
}

async function waitFor(condition: () => boolean, child: ChildProcess): Promise<void> {
  while (!condition()) {
    if (child.exitCode !== null) throw new Error("the run ended before the moment the test waited for");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// The run every interrupted one must end up equal to.
const reference = join(dir, "reference");
const referenceRun = onevideo("pretrain", ...recipe, "--out", reference);
assert.equal(referenceRun.code, 0, referenceRun.stderr);
const referenceWeights = readFileSync(join(reference, "weights.safetensors"));

const stopLine = (out: string) =>
  new RegExp(`^onevideo: stopped at step (\\d+); continue with: onevideo pretrain --resume --out ${out}\\n$`);

test("five SIGKILLs at random moments, some mid-write: every resume works and the weights are the same bits", async () => {
  const out = join(dir, "killed");
  const random = new Random(7);
  let kills = 0;
  while (kills < 5) {
    const child = start(
      "pretrain",
      ...(existsSync(join(out, "config.json")) ? ["--resume"] : recipe),
      "--out",
      out,
    );
    // Past a few logged steps, then a random moment: with a checkpoint every step, many fall in writes.
    const after = loggedSteps(out) + 1;
    await waitFor(() => loggedSteps(out) >= after || child.exitCode !== null, child).catch(() => undefined);
    if (child.exitCode !== null) break; // the run finished before this kill
    await new Promise((resolve) => setTimeout(resolve, random.uniform(0, 250)));
    child.kill("SIGKILL");
    await exited(child);
    kills += 1;
  }
  assert.equal(kills, 5, "the run outlived fewer than five kills: make it longer");
  const finish = onevideo("pretrain", "--resume", "--out", out);
  assert.equal(finish.code, 0, finish.stderr);
  assert.ok(readFileSync(join(out, "weights.safetensors")).equals(referenceWeights), "weights differ");
  // No temporary file of a killed write is left behind.
  const leftovers = [out, join(out, "checkpoints")].flatMap((folder) =>
    readdirSync(folder).filter((name) => name.includes(".tmp-")),
  );
  assert.deepEqual(leftovers, []);
});

for (const [signal, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
] as const) {
  test(`${signal} mid-run: a checkpoint at the stop, one line, exit ${code}, and an exact resume`, async () => {
    const out = join(dir, signal);
    const child = start("pretrain", ...recipe, "--out", out);
    await waitFor(() => loggedSteps(out) >= 3, child);
    child.kill(signal);
    const { code: exitCode } = await exited(child);
    assert.equal(exitCode, code);
    const match = stopLine(out).exec(child.stderrText().replace(/^step .*\n/gm, ""));
    assert.ok(match, child.stderrText());
    const stoppedAt = Number(match[1]);
    assert.ok(stoppedAt >= 3 && stoppedAt < steps, `stopped at ${stoppedAt}`);
    const latest = JSON.parse(readFileSync(join(out, "checkpoints", "latest.json"), "utf8"));
    assert.equal(latest.checkpoint, `step-${String(stoppedAt).padStart(8, "0")}`);
    // The line's own command continues it.
    const resumed = onevideo("pretrain", "--resume", "--out", out);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.ok(readFileSync(join(out, "weights.safetensors")).equals(referenceWeights), "weights differ");
    const logged = readFileSync(join(out, "metrics.jsonl"), "utf8").split("\n").filter(Boolean);
    assert.deepEqual(
      logged.map((line) => JSON.parse(line).step),
      Array.from({ length: steps }, (_, i) => i + 1),
      "each step logged once",
    );
  });
}

test("a second Ctrl-C ends the run at once, without waiting for a checkpoint", async () => {
  const out = join(dir, "twice");
  // Larger views: a step well over the gap between the two signals. Right after a step is
  // logged its checkpoint is written and the next step starts, so both signals land while the
  // run is busy. (Sent back to back, the kernel could merge the two into one.)
  const child = start("pretrain", ...recipe, "--image-size", "48", "--local-crops", "4", "--out", out);
  const logged = loggedSteps(out);
  await waitFor(() => loggedSteps(out) > Math.max(logged, 1), child);
  child.kill("SIGINT");
  await new Promise((resolve) => setTimeout(resolve, 50));
  child.kill("SIGINT");
  const { code } = await exited(child);
  assert.equal(code, 130);
  assert.doesNotMatch(child.stderrText(), /stopped at step/);
});

/** The run stopped after step 6 of 12, with checkpoints at 4 and 6 (the two kept). */
async function stoppedRun(name: string): Promise<string> {
  const out = join(dir, name);
  await pretrain({ ...options, checkpointEvery: 2, out }, { stopAfterStep: 6, onProgress: () => {} });
  return out;
}

function flipByte(path: string, at: number): void {
  const bytes = readFileSync(path);
  bytes[at] ^= 0xff;
  writeFileSync(path, bytes);
}

test("a flipped byte in the newest checkpoint: resume falls back to the one before, saying so, to the same weights", async () => {
  const out = await stoppedRun("damaged");
  const newest = join(out, "checkpoints", "step-00000006.safetensors");
  flipByte(newest, readFileSync(newest).length - 100);
  const resumed = onevideo("pretrain", "--resume", "--out", out);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(
    resumed.stderr,
    /^onevideo: checkpoint step-00000006 is damaged \(step-00000006\.safetensors does not match its checksum\); using step-00000004, the newest intact checkpoint$/m,
  );
  assert.ok(readFileSync(join(out, "weights.safetensors")).equals(referenceWeights), "weights differ");
});

test("every checkpoint damaged: one line, and nothing in the run folder changes", async () => {
  const out = await stoppedRun("ruined");
  for (const name of ["step-00000004.safetensors", "step-00000006.safetensors"]) {
    flipByte(join(out, "checkpoints", name), 200);
  }
  const before = folderSnapshot(out);
  const resumed = onevideo("pretrain", "--resume", "--out", out);
  assert.equal(resumed.code, 1);
  assert.match(
    resumed.stderr,
    /^onevideo: every checkpoint in .*checkpoints is damaged \(step-00000006.*\n$/,
  );
  assert.deepEqual(folderSnapshot(out), before);
});

test("a run stopped before its first checkpoint: --resume starts it again from step 0, saying so", () => {
  const out = join(dir, "early");
  const first = onevideo("pretrain", ...recipe, "--checkpoint-every", "100", "--out", out);
  assert.equal(first.code, 0, first.stderr);
  // As if killed before its first checkpoint: the folder holds only the config and metrics.
  rmSync(join(out, "checkpoints"), { recursive: true });
  rmSync(join(out, "weights.safetensors"));
  const again = onevideo("pretrain", ...recipe, "--out", out);
  assert.equal(again.code, 1);
  assert.match(
    again.stderr,
    /holds a run stopped before its first checkpoint; add --resume to start it again from step 0/,
  );
  const resumed = onevideo("pretrain", "--resume", "--out", out);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /has no checkpoint yet: the run starts again from step 0/);
  assert.ok(readFileSync(join(out, "weights.safetensors")).equals(referenceWeights), "weights differ");
});

test("temporaries of a killed write are removed at the next start; --steps below the checkpoint is refused", async () => {
  const out = await stoppedRun("leftovers");
  const dead = 2 ** 22 + 12345; // above Linux's default pid_max: no such process
  writeFileSync(join(out, "checkpoints", `step-00000008.safetensors.tmp-${dead}`), "half a checkpoint");
  writeFileSync(join(out, `summary.json.tmp-${dead}`), "{");
  const before = folderSnapshot(out);
  const early = onevideo("pretrain", "--resume", "--out", out, "--steps", "5");
  assert.equal(early.code, 1);
  assert.match(
    early.stderr,
    /^onevideo: .*the run in .* is at step 6 already; give --steps above 6 to train it further\n$/m,
  );
  const after = folderSnapshot(out);
  for (const [path, hash] of Object.entries(after)) assert.equal(hash, before[path], path);
  assert.ok(!Object.keys(after).some((path) => path.includes(".tmp-")), "leftovers removed");
});

test("a full disk: the checkpoint write fails in one line, the one before stays whole, and the run resumes", (t) => {
  const mount = join(dir, "small-disk");
  mkdirSync(mount);
  // A checkpoint of this network is about 86 MB: the first fits in 100 MB, the second does not.
  const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=100m", "tmpfs", mount], {
    encoding: "utf8",
  });
  if (mounted.status !== 0) {
    t.skip(`a small tmpfs could not be mounted here (${mounted.stderr.trim()}); it needs root`);
    return;
  }
  try {
    const out = join(mount, "run");
    const full = onevideo("pretrain", ...recipe, "--checkpoint-every", "2", "--out", out);
    assert.equal(full.code, 1);
    assert.match(
      full.stderr.replace(/^step .*\n/gm, ""), // the progress lines before it
      /^onevideo: cannot write the checkpoint of step 4 in .* \(ENOSPC\); the checkpoint of step 2 is intact: free space and continue with: onevideo pretrain --resume --out .*\n$/,
    );
    assert.deepEqual(readdirSync(join(out, "checkpoints")).sort(), [
      "latest.json",
      "step-00000002.json",
      "step-00000002.safetensors",
    ]);
    spawnSync("mount", ["-o", "remount,size=400m", mount]);
    const resumed = onevideo("pretrain", "--resume", "--out", out);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.ok(readFileSync(join(out, "weights.safetensors")).equals(referenceWeights), "weights differ");
  } finally {
    spawnSync("umount", [mount]);
  }
});
