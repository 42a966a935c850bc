// A bench given a BENCH_* value it cannot use stops at once: exit code 2 and one line on stderr
// naming the variable and a value that works, no stack trace, no tour built.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const oneVideo = fileURLToPath(new URL("../../bench/one_video.ts", import.meta.url));

function runWith(variables: Record<string, string>) {
  const run = spawnSync(process.execPath, ["--import", "tsx", oneVideo], {
    env: { ...process.env, ...variables },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: run.status, lines: run.stderr.trim().split("\n"), stdout: run.stdout };
}

const cases: [Record<string, string>, string][] = [
  [
    { BENCH_MINUTES: "half an hour" },
    "bench: BENCH_MINUTES=half an hour is not a number above 0; unset it or give one, e.g. BENCH_MINUTES=30",
  ],
  [
    { BENCH_MINUTES: "-5" },
    "bench: BENCH_MINUTES=-5 is not a number above 0; unset it or give one, e.g. BENCH_MINUTES=30",
  ],
  [
    { BENCH_SEEDS: "0" },
    "bench: BENCH_SEEDS=0 is not a whole number of at least 1; unset it or give one, e.g. BENCH_SEEDS=3",
  ],
  [
    { BENCH_SEEDS: "2.5" },
    "bench: BENCH_SEEDS=2.5 is not a whole number of at least 1; unset it or give one, e.g. BENCH_SEEDS=3",
  ],
  [
    { BENCH_EVAL_TEST: "" },
    "bench: BENCH_EVAL_TEST= is not a whole number of at least 1; unset it or give one, e.g. BENCH_EVAL_TEST=2000",
  ],
  [
    { BENCH_FIRST_SEED: "-1" },
    "bench: BENCH_FIRST_SEED=-1 is not a whole number of at least 0; unset it or give one, e.g. BENCH_FIRST_SEED=0",
  ],
  [
    { BENCH_STEPS: "0" },
    "bench: BENCH_STEPS=0 is not a whole number of at least 1; unset it or give one, e.g. BENCH_STEPS=3000",
  ],
  [
    { BENCH_ROWS: "floor-vit,dora" },
    "bench: BENCH_ROWS=floor-vit,dora is not a list of floor-vit, floor-resnet, dino-fashion-mnist, dino-tour, dora-tour, vader-tour; unset it or give one, e.g. BENCH_ROWS=floor-vit,floor-resnet",
  ],
];

for (const [variables, line] of cases) {
  test(`bench:one-video refuses ${JSON.stringify(variables)} with one line`, () => {
    const run = runWith(variables);
    assert.equal(run.status, 2);
    assert.deepEqual(run.lines, [line]);
    assert.equal(run.stdout, "");
  });
}
