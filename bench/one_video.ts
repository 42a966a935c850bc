// Is Fashion-MNIST worth one video? Under the same compute (steps x batch x views, the same
// ViT-Tiny/8 at 64 px), pretrain DINO on Fashion-MNIST's training images and on one
// generated tour, then score each encoder, and a randomly initialised one as the floor,
// by k-NN and linear top-1 on Fashion-MNIST's test set and J&F on held-out tour sequences.
// BENCH_STEPS (default 300), BENCH_TOUR_MINUTES (10), BENCH_EVAL_TRAIN (5000) and
// BENCH_EVAL_TEST (1000) size it. Last line: one JSON object with every row.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { demoOptions } from "../src/cli/demo.ts";
import { createVit } from "../src/models/vit.ts";
import { manualSeed, writeSafetensors } from "../src/torch/index.ts";

const steps = Number(process.env.BENCH_STEPS ?? 300);
const tourMinutes = Number(process.env.BENCH_TOUR_MINUTES ?? 10);
const evalTrain = Number(process.env.BENCH_EVAL_TRAIN ?? 5000);
const evalTest = Number(process.env.BENCH_EVAL_TEST ?? 1000);
const work = mkdtempSync(join(tmpdir(), "onevideo-one-video-"));
const cli = fileURLToPath(new URL("../bin/onevideo.js", import.meta.url));

/** Runs a onevideo command and returns its last stdout line parsed as JSON, or as text. */
function onevideo(...args: string[]): string {
  const started = performance.now();
  const output = execFileSync(process.execPath, [cli, ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 64 << 20,
  });
  console.error(`  ${args.slice(0, 2).join(" ")}: ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return output.trim().split("\n").at(-1)!;
}

console.error(`building a ${tourMinutes}-minute tour`);
const tour = join(work, "tour");
onevideo("tours", "--out", tour, "--minutes", String(tourMinutes));

// The demo's recipe, minus its video: every row trains exactly the same network the same way.
const { video: _video, ...recipe } = demoOptions;
const recipeFlags = Object.entries({ ...recipe, steps, logEvery: 50, checkpointEvery: steps }).flatMap(
  ([key, value]) => [`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(value)],
);
function pretrain(name: string, ...source: string[]): string {
  console.error(`pretraining: ${name}`);
  return onevideo("pretrain", "--method", "dino", ...source, ...recipeFlags, "--out", join(work, name));
}

const random = join(work, "random.safetensors");
manualSeed(0);
writeSafetensors(random, createVit("vit_tiny", { patchSize: 8, imageSize: recipe.imageSize }).stateDict());
const encoders: [string, string][] = [
  ["random initialisation (floor)", random],
  ["DINO on Fashion-MNIST images", pretrain("dino-fashion-mnist", "--dataset", "fashion-mnist")],
  ["DINO on one tour", pretrain("dino-tour", "--video", join(tour, "tour.mp4"))],
];

const limits = ["--train-limit", String(evalTrain), "--test-limit", String(evalTest)];
const rows = encoders.map(([name, checkpoint]) => {
  console.error(`evaluating: ${name}`);
  const knn = JSON.parse(
    onevideo("eval", "knn", "--checkpoint", checkpoint, "--dataset", "fashion-mnist", "--k", "20", ...limits),
  );
  const linear = JSON.parse(
    onevideo("eval", "linear", "--checkpoint", checkpoint, "--dataset", "fashion-mnist", ...limits),
  );
  const davis = JSON.parse(
    onevideo(
      ...["eval", "davis", "--checkpoint", checkpoint, "--davis", join(tour, "davis"), "--split", "val"],
      ...["--out", join(work, "masks", name.replace(/\W+/g, "-")), "--size", "96"],
    ),
  );
  return { name, knnTop1: knn.results[0].top1, linearTop1: linear.top1, jf: davis.JF * 100 };
});

console.log(
  `\nViT-Tiny/8, 64 px, ${steps} steps of batch ${recipe.batchSize} (2 global + ${recipe.localCrops} local views); ` +
    `Fashion-MNIST ${evalTrain} train / ${evalTest} test images; J&F on the tour's held-out sequences\n`,
);
console.log("| encoder | k-NN top-1 (k=20) | linear top-1 | J&F (tour) |");
console.log("|---|---|---|---|");
for (const row of rows) {
  console.log(
    `| ${row.name} | ${row.knnTop1.toFixed(1)} | ${row.linearTop1.toFixed(1)} | ${row.jf.toFixed(1)} |`,
  );
}
console.log(JSON.stringify({ steps, tourMinutes, evalTrain, evalTest, rows }));
