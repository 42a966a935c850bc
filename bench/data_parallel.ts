// Data-parallel overhead on the CPU: the DINO demo step (global batch 16, vtest.avi) as
// 2 Gloo processes x 1 thread each, against 1 process x 2 threads and 1 process x 1
// thread, in one run. On a 2-core machine the two layouts use the same cores, so the
// first ratio measures what data parallelism costs (gradient all-reduce, per-process
// overheads), not a speed-up; the second is the classic scaling efficiency over one core.
// Last line: {"images_per_s": {...}, "dp_vs_threads", "dp_scaling_efficiency"}.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { demoVideo } from "../src/pretrain/demo.ts";
import { wholeNumber } from "./settings.ts";

const steps = wholeNumber("BENCH_STEPS", 60);
const work = mkdtempSync(join(tmpdir(), "onevideo-bench-dp-"));
const cli = fileURLToPath(new URL("../bin/onevideo.js", import.meta.url));
const globalBatch = 16;

/** Images per second over the logged windows after the first (warm-up). */
function run(name: string, processes: number, threads: number): number {
  const out = join(work, name);
  const flags = ["--preset", "demo", "--video", demoVideo, "--steps", String(steps), "--log-every", "10"];
  flags.push(
    "--batch-size",
    String(globalBatch / processes),
    "--out",
    out,
    "--cache-dir",
    join(work, "cache"),
  );
  if (processes > 1) flags.push("--nproc-per-node", String(processes));
  execFileSync(process.execPath, [cli, "pretrain", ...flags], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, ONEVIDEO_THREADS: String(threads) },
  });
  const records = readFileSync(join(out, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as { step_ms: number });
  const timed = records.slice(1);
  const stepMs = timed.reduce((total, record) => total + record.step_ms, 0) / timed.length;
  const imagesPerS = (globalBatch * 1000) / stepMs;
  console.log(
    `${name.padEnd(22)} ${stepMs.toFixed(0).padStart(6)} ms/step  ${imagesPerS.toFixed(1).padStart(6)} images/s`,
  );
  return imagesPerS;
}

console.log(`DINO demo step, global batch ${globalBatch}, ${steps} steps each (first 10 are warm-up)`);
run("warm-cache", 1, 2); // decodes the frame store once, so no row pays for it
const threads2 = run("1 process x 2 threads", 1, 2);
const dp = run("2 processes x 1 thread", 2, 1);
const threads1 = run("1 process x 1 thread", 1, 1);
console.log(
  JSON.stringify({
    images_per_s: {
      one_process_two_threads: threads2,
      two_processes_one_thread: dp,
      one_process_one_thread: threads1,
    },
    dp_vs_threads: +(dp / threads2).toFixed(3),
    dp_scaling_efficiency: +(dp / (2 * threads1)).toFixed(3),
  }),
);
