// Data-parallel training over c10d Gloo: two processes with half the batch each train the
// weights one process trains with the whole batch; torchrun-style environments work; a
// killed worker ends the job with one line per rank, and the run resumes at another
// world size; bad launcher flags and environments are one line each.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { DinoConfig } from "../../src/methods/dino.ts";
import { resolveConfig } from "../../src/pretrain/pretrain.ts";
import { DinoMethod } from "../../src/methods/dino.ts";
import { manualSeed, readSafetensors, type Tensor } from "../../src/torch/index.ts";
import { DataParallel, placementFromEnv } from "../../src/train/data_parallel.ts";
import { freePort } from "../../src/train/launch.ts";
import { InputError } from "../../src/errors.ts";
import { scratchDir } from "../helpers/videos.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const cli = join(root, "bin", "onevideo.js");
const dir = scratchDir();
// The runs hold checkpoints (tens of MB each): not left behind.
after(() => rmSync(dir, { recursive: true, force: true }));

// Without a launcher's variables in the environment the tests run from, whatever ran them.
const launcherVariables = [
  "RANK",
  "WORLD_SIZE",
  "LOCAL_RANK",
  "LOCAL_WORLD_SIZE",
  "MASTER_ADDR",
  "MASTER_PORT",
];
const baseEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !launcherVariables.includes(name)),
);

// Every rank has its own augmentation stream (rankSeed), so only views that do not depend
// on the stream let one process and two see identical images: a square Fashion-MNIST
// image cropped at scale 1 is always the whole image, and every random flip, colour
// change, blur and solarisation is switched off (no local crops, no drop-path either).
const deterministicJob = [
  "--dataset",
  "fashion-mnist",
  "--preset",
  "demo",
  "--steps",
  "3",
  "--global-scale-min",
  "1",
  "--local-crops",
  "0",
  "--flip-probability",
  "0",
  "--color-jitter-probability",
  "0",
  "--grayscale-probability",
  "0",
  "--blur-probability",
  "0",
  "--second-blur-probability",
  "0",
  "--solarize-probability",
  "0",
  "--drop-path-rate",
  "0",
  "--log-every",
  "1",
  "--device",
  "cpu",
];

function onevideo(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [cli, ...args], {
    encoding: "utf8",
    env: { ...baseEnv, ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Resolves with the exit code and output of a spawned process once it ends. */
/** The lines meant for the user on stderr (the progress lines left out). */
const messages = (stderr: string) => stderr.split("\n").filter((line) => line.startsWith("onevideo: "));

function finished(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk) => (stdout += chunk));
  child.stderr?.on("data", (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

/** Every file under `folder`, relative, sorted. */
function listing(folder: string): string[] {
  return (readdirSync(folder, { recursive: true }) as string[]).sort();
}

/** The largest |a - b| and the L2 norm of a - b over the tensors of `a` whose name starts with `prefix`. */
function difference(a: Map<string, Tensor>, b: Map<string, Tensor>, prefix = "", minimum = 100) {
  let max = 0;
  let squares = 0;
  let count = 0;
  for (const [name, tensor] of a) {
    if (!name.startsWith(prefix)) continue;
    const other = b.get(name);
    assert.ok(other, `${name} is missing`);
    assert.deepEqual(other.shape, tensor.shape, name);
    using gap = tensor.sub(other).abs();
    using largest = gap.max();
    using squared = gap.square();
    using sum = squared.sum();
    max = Math.max(max, largest.item());
    squares += sum.item();
    count += 1;
  }
  assert.ok(count >= minimum, `only ${count} tensors named ${prefix}*`);
  return { max, l2: Math.sqrt(squares) };
}

function metrics(runDir: string): Record<string, number>[] {
  return readFileSync(join(runDir, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, number>);
}

test("2 Gloo processes train the same weights as 1 process with the doubled batch", () => {
  const one = join(dir, "one-process");
  const two = join(dir, "two-processes");
  const single = onevideo(["pretrain", ...deterministicJob, "--batch-size", "8", "--out", one]);
  assert.equal(single.code, 0, single.stderr);
  const parallel = onevideo([
    "pretrain",
    ...deterministicJob,
    "--batch-size",
    "4",
    "--nproc-per-node",
    "2",
    "--out",
    two,
  ]);
  assert.equal(parallel.code, 0, parallel.stderr);
  assert.match(parallel.stdout, /trained 3 steps/);

  // The loss is the mean over ranks of each half's loss: the whole batch's loss (measured
  // gap 1.2e-6). Without the gradient average, or with each rank's own centre, step 2
  // moves by 4e-3.
  const lossesOne = metrics(one);
  const lossesTwo = metrics(two);
  assert.deepEqual(
    lossesTwo.map((record) => record.step),
    [1, 2, 3],
    "rank 0 alone logs each step once",
  );
  lossesOne.forEach((record, index) => {
    const gap = Math.abs(record.loss - lossesTwo[index].loss);
    assert.ok(gap < 1e-5, `step ${record.step}: loss ${record.loss} vs ${lossesTwo[index].loss}`);
  });
  assert.ok(lossesOne[2].loss < lossesOne[0].loss - 0.1, "the loss moved: the steps did something");

  // The weights. At the demo rate AdamW moves every weight by about lr = 1.5e-5 a step
  // (4.2e-5 in all over 3 steps), so an absolute bound of 1e-4 would pass anything:
  // without the gradient average rank 0's student is off by 8.2e-5 at most. The bounds
  // are therefore set against what was measured (max 5.7e-6, relative L2 1.5e-4) and
  // against the change from the initial weights (max 4.2e-5, L2 0.080).
  const a = readSafetensors(join(one, "checkpoints", "step-00000003.safetensors")).tensors;
  const b = readSafetensors(join(two, "checkpoints", "step-00000003.safetensors")).tensors;
  const student = difference(a, b, "student.");
  const config = <DinoConfig>resolveConfig({
    dataset: "fashion-mnist",
    preset: "demo",
    localCrops: 0,
    dropPathRate: 0,
  });
  manualSeed(config.seed); // as pretrain() does: the initial weights follow the seed
  const initial = new Map(
    [...new DinoMethod(config).student.stateDict()].map(([name, tensor]) => [`student.${name}`, tensor]),
  );
  const change = difference(a, initial, "student.");
  assert.ok(change.l2 > 0.05 && change.max > 3e-5, `the student moved: ${JSON.stringify(change)}`);
  // Without the gradient average the relative L2 is 0.34; without the averaged centre 5.7e-3.
  assert.ok(student.max < 2e-5, `student max |diff| ${student.max}`);
  assert.ok(student.l2 < 2e-3 * change.l2, `student L2 diff ${student.l2} vs change ${change.l2}`);
  // DINO's centre is averaged over ranks: measured 1.3e-8; 3e-3 when each rank keeps its own.
  const center = difference(a, b, "state.dino_loss.center", 1);
  assert.ok(center.max < 1e-6, `centre max |diff| ${center.max}`);
  // The teacher's exported backbone (measured 4.5e-8 against 4.8e-7 without the average).
  const teacherA = readSafetensors(join(one, "weights.safetensors")).tensors;
  const teacherB = readSafetensors(join(two, "weights.safetensors")).tensors;
  const teacher = difference(teacherA, teacherB);
  assert.ok(teacher.max < 2e-7, `teacher max |diff| ${teacher.max}`);

  // Only rank 0 wrote: the same files as one process (no second metrics line, no
  // leftover temporary file); the configuration records the world size.
  assert.deepEqual(listing(two), listing(one));
  const recordedTwo = JSON.parse(readFileSync(join(two, "config.json"), "utf8"));
  const started = (run: string) => JSON.parse(readFileSync(join(run, "environment.json"), "utf8"))[0];
  assert.equal(started(one).worldSize, 1);
  assert.equal(started(two).worldSize, 2);
  assert.equal(recordedTwo.batchSize, 4, "--batch-size is per process");
  // Every rank's augmentation state is in the checkpoint, each rank its own stream.
  const sidecar = JSON.parse(readFileSync(join(two, "checkpoints", "step-00000003.json"), "utf8"));
  assert.equal(sidecar.randomStates.length, 2);
  assert.notEqual(sidecar.randomStates[0], sidecar.randomStates[1]);
  assert.equal(sidecar.randomState, sidecar.randomStates[0]);
  const sidecarOne = JSON.parse(readFileSync(join(one, "checkpoints", "step-00000003.json"), "utf8"));
  assert.equal(sidecarOne.randomStates.length, 1);
});

test("workers started torchrun-style (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT) train together", async () => {
  const out = join(dir, "torchrun");
  const port = await freePort();
  const workers = [0, 1].map((rank) =>
    finished(
      spawn(process.execPath, [cli, "pretrain", ...deterministicJob, "--batch-size", "4", "--out", out], {
        env: {
          ...baseEnv,
          RANK: String(rank),
          LOCAL_RANK: String(rank),
          WORLD_SIZE: "2",
          MASTER_ADDR: "127.0.0.1",
          MASTER_PORT: String(port),
          ONEVIDEO_THREADS: "1",
        },
      }),
    ),
  );
  const [rank0, rank1] = await Promise.all(workers);
  assert.equal(rank0.code, 0, rank0.stderr);
  assert.equal(rank1.code, 0, rank1.stderr);
  assert.match(rank0.stdout, /trained 3 steps/);
  assert.equal(rank1.stdout, "", "rank 1 prints nothing");
  for (const file of [
    "config.json",
    "metrics.jsonl",
    "summary.json",
    "weights.safetensors",
    "checkpoints/latest.json",
    "checkpoints/step-00000003.safetensors",
  ])
    assert.ok(existsSync(join(out, file)), file);
  assert.equal(JSON.parse(readFileSync(join(out, "environment.json"), "utf8"))[0].worldSize, 2);
  assert.equal(metrics(out).length, 3);
  // The same job as the launcher's: the same losses as the 2-process run above.
  const launched = metrics(join(dir, "two-processes"));
  metrics(out).forEach((record, index) => assert.ok(Math.abs(record.loss - launched[index].loss) < 1e-5));
});

/** The launcher's children with RANK=rank in their environment. */
function workerPid(launcherPid: number, rank: number): number | undefined {
  // ps exits 1 when there is no such child.
  const children = spawnSync("ps", ["-o", "pid=", "--ppid", String(launcherPid)], { encoding: "utf8" })
    .stdout.trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
  return children.find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(`RANK=${rank}`);
    } catch {
      return false; // it ended meanwhile
    }
  });
}

test("a killed worker ends the job with a message on every rank, and resume works at another world size", async () => {
  const out = join(dir, "killed");
  // Enough steps to run a couple of minutes: the job must still be running when killed.
  const job = [
    "--dataset",
    "fashion-mnist",
    "--preset",
    "demo",
    "--batch-size",
    "4",
    "--local-crops",
    "0",
    "--checkpoint-every",
    "5",
    "--log-every",
    "1",
    "--device",
    "cpu",
    "--out",
    out,
  ];
  const timeout = 20;
  const launcher = spawn(
    process.execPath,
    [
      cli,
      "pretrain",
      ...job,
      "--steps",
      "200",
      "--nproc-per-node",
      "2",
      "--collective-timeout",
      String(timeout),
    ],
    { env: baseEnv },
  );
  const ended = finished(launcher);
  try {
    const latest = join(out, "checkpoints", "latest.json");
    const deadline = Date.now() + 60_000;
    while (!existsSync(latest) && Date.now() < deadline && launcher.exitCode === null)
      await new Promise((resolve) => setTimeout(resolve, 200));
    assert.ok(existsSync(latest), "a checkpoint within 60 s");
    const victim = workerPid(launcher.pid!, 1);
    assert.ok(victim, "rank 1 is a child of the launcher");
    assert.notEqual(workerPid(launcher.pid!, 0), undefined, "and so is rank 0");
    const killedAt = Date.now();
    process.kill(victim, "SIGKILL");
    const { code, stderr } = await ended;
    const seconds = (Date.now() - killedAt) / 1000;
    // Within the collective timeout and the launcher's 10 s grace (Gloo sees the closed
    // connection at once: measured 0.4 s).
    assert.ok(seconds < timeout + 15, `the job ended ${seconds} s after the kill`);
    assert.equal(code, 1, stderr);
    assert.match(stderr, /worker rank 1 was ended by SIGKILL; stopping the job \(resume it with --resume\)/);
    assert.match(
      stderr,
      /^onevideo: rank 0: .* failed \(.*\); .*resume from the last checkpoint with --resume$/m,
    );
    assert.doesNotMatch(stderr, /^\s+at /m, "no stack trace");
    assert.equal(messages(stderr).length, 2, stderr);
  } finally {
    if (launcher.exitCode === null && launcher.signalCode === null) launcher.kill("SIGKILL");
  }
  for (const rank of [0, 1]) assert.equal(workerPid(launcher.pid!, rank), undefined, `rank ${rank} ended`);

  // One process takes over from the 2-process checkpoint (the flags given again override
  // what config.json recorded).
  const saved = JSON.parse(readFileSync(join(out, "checkpoints", "latest.json"), "utf8"))
    .checkpoint as string;
  const step = Number(saved.replace("step-", ""));
  const sidecar = JSON.parse(readFileSync(join(out, "checkpoints", `${saved}.json`), "utf8"));
  assert.equal(sidecar.randomStates.length, 2);
  const resumed = onevideo(["pretrain", ...job, "--resume", "--steps", String(step + 2)]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, new RegExp(`trained ${step + 2} steps`));
  assert.ok(existsSync(join(out, "weights.safetensors")));
  assert.ok(existsSync(join(out, "checkpoints", `step-${String(step + 2).padStart(8, "0")}.safetensors`)));
});

test("Ctrl-C under the launcher: every rank stops at the same step, rank 0 checkpoints it, one line, exit 130", async () => {
  const out = join(dir, "interrupted");
  const job = ["--dataset", "fashion-mnist", "--preset", "demo", "--batch-size", "4", "--local-crops", "0"];
  const launcher = spawn(
    process.execPath,
    [cli, "pretrain", ...job, "--steps", "200", "--log-every", "1", "--out", out, "--nproc-per-node", "2"],
    { env: baseEnv },
  );
  const ended = finished(launcher);
  try {
    const deadline = Date.now() + 60_000;
    while (metricLines(out) < 3 && Date.now() < deadline && launcher.exitCode === null)
      await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(metricLines(out) >= 3, "three steps within 60 s");
    launcher.kill("SIGINT");
    const { code, stderr } = await ended;
    assert.equal(code, 130, stderr);
    const lines = messages(stderr);
    assert.equal(lines.length, 1, stderr);
    const step = Number(
      /^onevideo: stopped at step (\d+); continue with: onevideo pretrain --resume --out /.exec(
        lines[0],
      )?.[1],
    );
    assert.ok(step >= 3 && step < 200, lines[0]);
    const latest = JSON.parse(readFileSync(join(out, "checkpoints", "latest.json"), "utf8")).checkpoint;
    assert.equal(latest, `step-${String(step).padStart(8, "0")}`);
    const sidecar = JSON.parse(readFileSync(join(out, "checkpoints", `${latest}.json`), "utf8"));
    assert.equal(sidecar.randomStates.length, 2, "both ranks' streams, gathered at the same step");
    for (const rank of [0, 1]) assert.equal(workerPid(launcher.pid!, rank), undefined, `rank ${rank} ended`);
    const resumed = onevideo([
      "pretrain",
      "--resume",
      "--out",
      out,
      "--nproc-per-node",
      "2",
      "--steps",
      String(step + 2),
    ]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, new RegExp(`trained ${step + 2} steps`));
  } finally {
    if (launcher.exitCode === null && launcher.signalCode === null) launcher.kill("SIGKILL");
  }
});

function metricLines(out: string): number {
  const path = join(out, "metrics.jsonl");
  return existsSync(path) ? readFileSync(path, "utf8").split("\n").filter(Boolean).length : 0;
}

/** Runs fn with these environment variables set, then puts the environment back. */
function withEnv<T>(variables: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(variables).map((name) => [name, process.env[name]]));
  const set = (values: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  set(variables);
  try {
    return fn();
  } finally {
    set(saved);
  }
}

test("placementFromEnv reads torchrun's variables and rejects bad ones in one line", () => {
  const none = {
    RANK: undefined,
    WORLD_SIZE: undefined,
    LOCAL_RANK: undefined,
    MASTER_ADDR: undefined,
    MASTER_PORT: undefined,
  };
  assert.deepEqual(
    withEnv(none, () => placementFromEnv()),
    { rank: 0, worldSize: 1, localRank: 0, masterAddr: "127.0.0.1", masterPort: 29500 },
  );
  assert.deepEqual(
    withEnv({ ...none, RANK: "3", WORLD_SIZE: "4", MASTER_ADDR: "10.0.0.2", MASTER_PORT: "1234" }, () =>
      placementFromEnv(),
    ),
    { rank: 3, worldSize: 4, localRank: 3, masterAddr: "10.0.0.2", masterPort: 1234 },
  );
  const cases: [Record<string, string>, RegExp][] = [
    [{ RANK: "2", WORLD_SIZE: "2" }, /^RANK=2 is not below WORLD_SIZE=2; fix the launcher's environment$/],
    [{ RANK: "1.5", WORLD_SIZE: "2" }, /^RANK=1\.5 is not a non-negative integer/],
    [{ RANK: "0", WORLD_SIZE: "two" }, /^WORLD_SIZE=two is not a non-negative integer/],
    [{ RANK: "-1", WORLD_SIZE: "2" }, /^RANK=-1 is not a non-negative integer/],
    [{ WORLD_SIZE: "0" }, /^WORLD_SIZE=0: a job needs at least one process$/],
    [{ RANK: "0", WORLD_SIZE: "2", MASTER_PORT: "http" }, /^MASTER_PORT=http is not a non-negative integer/],
  ];
  for (const [variables, expected] of cases) {
    assert.throws(
      () => withEnv({ ...none, ...variables }, () => placementFromEnv()),
      (error: Error) =>
        error instanceof InputError && expected.test(error.message) && !error.message.includes("\n"),
      JSON.stringify(variables),
    );
  }
});

test("a single process's collectives do nothing", () => {
  const single = withEnv({ RANK: undefined, WORLD_SIZE: undefined }, () =>
    DataParallel.join(placementFromEnv(), "gloo", 1000),
  );
  assert.equal(single.worldSize, 1);
  assert.ok(single.isLeader && !single.isDistributed);
  assert.equal(single.averageNumber(2.5), 2.5);
  assert.deepEqual(single.gatherNumbers(7), [7]);
  single.leave();
});

test("DataParallel averages gradients during backward in buckets of each dtype, numbers and broadcasts across 2 processes", async () => {
  // Buckets in reverse parameter order: [last, none] f32, [double] f64, [big] f32 alone
  // (28 MB > a 25 MB bucket), then [small2, small] f32; `none` gets no gradient. Each
  // parameter's gradient is the tensor it multiplies in the loss.
  const torch = pathToFileURL(join(root, "src/torch/index.ts")).href;
  const dataParallel = pathToFileURL(join(root, "src/train/data_parallel.ts")).href;
  const worker = join(dir, "collectives-worker.ts");
  writeFileSync(
    worker,
    `import { arange, full, tensor, zeros } from ${JSON.stringify(torch)};
import { DataParallel, placementFromEnv } from ${JSON.stringify(dataParallel)};
const parallel = DataParallel.join(placementFromEnv(), "gloo", 20000);
const r = parallel.rank;
const small = zeros([3, 5], { requiresGrad: true });
const small2 = zeros([2], { requiresGrad: true });
const big = zeros([7_000_000], { requiresGrad: true });
const double = zeros([4], { dtype: "float64", requiresGrad: true });
const none = zeros([2], { requiresGrad: true });
const last = zeros([2, 2], { requiresGrad: true });
const targets = [
  [small, arange(15, undefined, 1, { dtype: "float32" }).reshape(3, 5).mul(r + 1)],
  [small2, tensor(r === 0 ? [1, -1] : [3, 5])],
  [big, full([7_000_000], r === 0 ? 1 : 2)],
  [double, tensor([1, 2, 3, 4], { dtype: "float64" }).mul(r === 0 ? 1 : 3)],
  [last, tensor(r === 0 ? [[1, 0], [0, 0]] : [[0, 0], [0, 1]])],
];
const lossOf = () => targets.map(([p, g]) => p.mul(g).sum()).reduce((a, b) => a.add(b));
// The bucket holding \`none\` never fills: nothing may start before it, all is sent at the end.
const withUnused = parallel.backward(lossOf(), [small, small2, big, double, none, last]);
const grads = { small: small.grad.toArray(), small2: small2.grad.toArray() };
for (const p of [small, small2, big, double, last]) p.grad = null;
// Every parameter used: each bucket starts during backward.
const allUsed = parallel.backward(lossOf(), [small, small2, big, double, last]);
const weights = tensor([r * 10 + 1, r]);
parallel.broadcastTensors([weights]);
const rows = parallel.gatherRows(r === 0 ? tensor([[1, 2]]) : tensor([[3, 4], [5, 6]]));
console.log(JSON.stringify({
  withUnused,
  allUsed,
  ...grads,
  same: small.grad.toArray().join() === grads.small.join(),
  big: [big.grad.min().item(), big.grad.max().item()],
  double: [double.grad.dtype, ...double.grad.toArray()],
  none: none.grad === null,
  last: last.grad.toArray(),
  weights: weights.toArray(),
  rows: [rows.shape, rows.toArray()],
  mean: parallel.averageNumber(r),
  gathered: parallel.gatherNumbers(r * 10 + 1),
}));
parallel.leave();
`,
  );
  const port = await freePort();
  const results = await Promise.all(
    [0, 1].map((rank) =>
      finished(
        spawn(process.execPath, ["--import", "tsx", worker], {
          cwd: root,
          env: {
            ...baseEnv,
            RANK: String(rank),
            WORLD_SIZE: "2",
            MASTER_ADDR: "127.0.0.1",
            MASTER_PORT: String(port),
            ONEVIDEO_THREADS: "1",
          },
        }),
      ),
    ),
  );
  const expected = {
    withUnused: { buckets: 4, launchedDuringBackward: 0 },
    allUsed: { buckets: 4, launchedDuringBackward: 4 },
    small: Array.from({ length: 15 }, (_, i) => i * 1.5),
    small2: [2, 2],
    same: true,
    big: [1.5, 1.5],
    double: ["float64", 2, 4, 6, 8],
    none: true,
    last: [0.5, 0, 0, 0.5],
    weights: [1, 0],
    rows: [
      [3, 2],
      [1, 2, 3, 4, 5, 6],
    ],
    mean: 0.5,
    gathered: [1, 11],
  };
  for (const [rank, { code, stdout, stderr }] of results.entries()) {
    assert.equal(code, 0, `rank ${rank}: ${stderr}`);
    assert.deepEqual(JSON.parse(stdout), expected, `rank ${rank}`);
  }
});

test("bad launcher flags are one line, exit 2, and write nothing", () => {
  const out = join(dir, "never");
  const job = ["pretrain", "--dataset", "fashion-mnist", "--preset", "demo", "--device", "cpu", "--out", out];
  const cases: [string[], 1 | 2, RegExp, NodeJS.ProcessEnv?][] = [
    [["--nproc-per-node", "0"], 2, /--nproc-per-node 0: give an integer >= 1/],
    [["--nproc-per-node", "1.5"], 2, /--nproc-per-node 1\.5: give an integer >= 1/],
    [["--nnodes", "2"], 2, /--nnodes > 1 needs --master-addr/],
    [["--node-rank", "2", "--nnodes", "2"], 2, /--node-rank 2 must be below --nnodes 2/],
    [["--nproc-per-node", "2", "--master-port", "70000"], 2, /--master-port 70000: give a TCP port, 1-65535/],
    [
      ["--nproc-per-node", "2"],
      1,
      /--nproc-per-node inside a launched worker \(RANK is set\)/,
      { RANK: "0" },
    ],
    [["--nproc-per-node", "2", "--collective-timeout", "0"], 2, /collective-timeout/],
  ];
  for (const [flags, exitCode, expected, env] of cases) {
    const { code, stderr } = onevideo([...job, ...flags], env);
    const what = flags.join(" ");
    assert.equal(code, exitCode, `${what}: exit ${code}, ${stderr}`);
    assert.match(stderr, expected, what);
    assert.equal(stderr.trim().split("\n").length, 1, `one line for ${what}: ${stderr}`);
    assert.ok(!existsSync(out), `${what} wrote ${out}`);
  }
  // Without footage the launcher says so once, instead of once per worker.
  const { code, stderr } = onevideo(["pretrain", "--nproc-per-node", "2", "--out", out]);
  assert.equal(code, 2);
  assert.match(stderr, /^onevideo: give the footage to learn from/);
  assert.equal(stderr.trim().split("\n").length, 1, stderr);
});
