// Is Fashion-MNIST worth one video? Under the same budget (steps x 16 frames per step),
// pretrain DINO on Fashion-MNIST's training images, and DINO, DoRA and VADeR on one
// generated tour, then score each encoder, and a randomly initialised ViT as the floor:
// k-NN and linear top-1 on Fashion-MNIST's test set (image-level features: the ViTs),
// J&F of label propagation and the dense probe's mIoU on held-out tour sequences. BENCH_STEPS (default 300), BENCH_TOUR_MINUTES (10),
// BENCH_EVAL_TRAIN (5000) and BENCH_EVAL_TEST (1000) size it; BENCH_ROWS (e.g.
// "random,dora-tour") runs some rows only. Last line: one JSON object with every row.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { demoOptions } from "../src/pretrain/demo.ts";
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

// Every row trains with its method's demo preset (ViT-Tiny/8 at 64 px for DINO and DoRA,
// ResNet-18 + FPN at 64 px for VADeR) for the same steps over the same 16 frames a step.
const { video: _video, ...recipe } = demoOptions;
function pretrain(name: string, method: string, ...source: string[]): string {
  console.error(`pretraining: ${name}`);
  return onevideo(
    ...["pretrain", "--method", method, "--preset", "demo", ...source, "--out", join(work, name)],
    ...["--steps", String(steps), "--log-every", "50", "--checkpoint-every", String(steps)],
  );
}

const random = join(work, "random.safetensors");
manualSeed(0);
writeSafetensors(random, createVit("vit_tiny", { patchSize: 8, imageSize: recipe.imageSize }).stateDict());
const tourVideo = join(tour, "tour.mp4");
// [key, name, checkpoint, whether it has an image-level ([CLS]) feature for k-NN and linear]
const candidates: [string, string, () => string, boolean][] = [
  ["random", "random ViT-Tiny/8 (floor)", () => random, true],
  [
    "dino-fashion-mnist",
    "DINO on Fashion-MNIST images",
    () => pretrain("dino-fashion-mnist", "dino", "--dataset", "fashion-mnist"),
    true,
  ],
  ["dino-tour", "DINO on one tour", () => pretrain("dino-tour", "dino", "--video", tourVideo), true],
  ["dora-tour", "DoRA on one tour", () => pretrain("dora-tour", "dora", "--video", tourVideo), true],
  ["vader-tour", "VADeR on one tour", () => pretrain("vader-tour", "vader", "--video", tourVideo), false],
];
const chosen = process.env.BENCH_ROWS?.split(",");
const encoders = candidates
  .filter(([key]) => chosen === undefined || chosen.includes(key))
  .map(([, name, checkpoint, global]) => [name, checkpoint(), global] as const);

const limits = ["--train-limit", String(evalTrain), "--test-limit", String(evalTest)];
const rows = encoders.map(([name, checkpoint, global]) => {
  console.error(`evaluating: ${name}`);
  const fashion = (kind: string, ...extra: string[]) =>
    JSON.parse(
      onevideo("eval", kind, "--checkpoint", checkpoint, "--dataset", "fashion-mnist", ...extra, ...limits),
    );
  const davis = JSON.parse(
    onevideo(
      ...["eval", "davis", "--checkpoint", checkpoint, "--davis", join(tour, "davis"), "--split", "val"],
      ...["--out", join(work, "masks", name.replace(/\W+/g, "-")), "--size", "96"],
    ),
  );
  const dense = JSON.parse(onevideo("eval", "dense", "--checkpoint", checkpoint, "--tour", tour));
  return {
    name,
    knnTop1: global ? (fashion("knn", "--k", "20").results[0].top1 as number) : null,
    linearTop1: global ? (fashion("linear").top1 as number) : null,
    jf: davis.JF * 100,
    denseMiou: dense.mIoU * 100,
  };
});

const figure = (value: number | null) => (value === null ? "-" : value.toFixed(1));
console.log(
  `\n${steps} steps of 16 frames (each method's demo preset); Fashion-MNIST ${evalTrain} train / ` +
    `${evalTest} test images; J&F and the dense probe on the tour's held-out sequences\n`,
);
console.log("| encoder | k-NN top-1 (k=20) | linear top-1 | J&F (tour) | dense probe mIoU (tour) |");
console.log("|---|---|---|---|---|");
for (const row of rows) {
  console.log(
    `| ${row.name} | ${figure(row.knnTop1)} | ${figure(row.linearTop1)} | ${figure(row.jf)} | ${figure(row.denseMiou)} |`,
  );
}
console.log(JSON.stringify({ steps, tourMinutes, evalTrain, evalTest, rows }));
