// Is Fashion-MNIST worth one video? Each trained row gets the same wall-clock budget on this
// machine: a short probe run measures its seconds per step, and the row then trains for the
// steps that fill BENCH_MINUTES (default 30) with its method's cpu preset. Rows: the untrained
// floors (ViT-Nano/8 and ResNet-18), DINO on Fashion-MNIST's training images, and DINO, DoRA
// and VADeR on one generated tour. Columns: k-NN and linear top-1 on Fashion-MNIST's test set
// (ViTs; the linear probe on features computed once), J&F of label propagation, the dense probe's mIoU and the discovery score (mean IoU of
// each object's best discovered mask; ViTs) on the tour's held-out sequences. Every figure is the
// mean and sample standard deviation over BENCH_SEEDS (default 3) seeds.
//
// Environment: BENCH_MINUTES (30), BENCH_SEEDS (3), BENCH_FIRST_SEED (0), BENCH_TOUR_MINUTES (10), BENCH_EVAL_TRAIN
// (5000), BENCH_EVAL_TEST (2000), BENCH_ROWS (e.g. "floor-vit,dora-tour": some rows only),
// BENCH_CHECKPOINTS (1: checkpoints kept along each run, for a curve), BENCH_STEPS (unset; given,
// every trained row trains for that many steps in place of the probe's count, so that a later
// seed gets the steps an earlier run of its row measured).
// Last line: one JSON object with every figure.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildTour } from "../src/data/tours/build.ts";
import { evaluateDavis } from "../src/eval/davis_evaluation.ts";
import { evaluateDense } from "../src/eval/dense_evaluation.ts";
import { evaluateDiscovery } from "../src/eval/discovery_evaluation.ts";
import { evaluateKnn } from "../src/eval/knn_evaluation.ts";
import { evaluateLinear } from "../src/eval/linear_evaluation.ts";
import { demoTourSettings } from "../src/pretrain/demo.ts";
import { pretrain, resolveConfig } from "../src/pretrain/pretrain.ts";
import { writeUntrainedNetwork } from "../src/pretrain/untrained.ts";
import { mean, sampleStandardDeviation } from "../src/util/statistics.ts";
import { positiveNumber, someOf, wholeNumber } from "./settings.ts";

const minutes = positiveNumber("BENCH_MINUTES", 30);
const seeds = wholeNumber("BENCH_SEEDS", 3);
// Seeds firstSeed to firstSeed + seeds - 1: a run of seven hours can be split across runs.
const firstSeed = wholeNumber("BENCH_FIRST_SEED", 0, 0);
const tourMinutes = positiveNumber("BENCH_TOUR_MINUTES", 10);
// More than one keeps checkpoints along the run (in the work folder) for a curve of a measure vs steps.
const checkpointsPerRun = wholeNumber("BENCH_CHECKPOINTS", 1);
// Unset, the probe sets each row's steps; 3000 is only the example a refused value is shown.
const pinnedSteps = process.env.BENCH_STEPS === undefined ? null : wholeNumber("BENCH_STEPS", 3000);
const evalImages = {
  trainLimit: wholeNumber("BENCH_EVAL_TRAIN", 5000),
  testLimit: wholeNumber("BENCH_EVAL_TEST", 2000),
};
const log = (line: string) => process.stderr.write(`${line}\n`);

interface Row {
  key: string;
  name: string;
  /** Pretraining options; without a dataset, the row trains on the tour (trainingOptions adds it). */
  options: Record<string, unknown>;
  /** Trained for the budget, or only built (the floor). */
  trained: boolean;
  vit: boolean;
}
const row = (key: string, name: string, options: Row["options"], trained: boolean, vit: boolean): Row => ({
  key,
  name,
  options,
  trained,
  vit,
});
// Images that are one object each: DINO's own crop scales, not the preset's zoom for footage.
const fashionMnist = {
  method: "dino",
  dataset: "fashion-mnist",
  ...{ globalScaleMin: 0.4, localScaleMin: 0.05, localScaleMax: 0.4 },
};
const rows: Row[] = [
  row("floor-vit", "untrained ViT-Nano/8 (floor)", { method: "dino" }, false, true),
  row("floor-resnet", "untrained ResNet-18 (VADeR's floor)", { method: "vader" }, false, false),
  row("dino-fashion-mnist", "DINO on Fashion-MNIST images", fashionMnist, true, true),
  row("dino-tour", "DINO on one tour", { method: "dino" }, true, true),
  row("dora-tour", "DoRA on one tour", { method: "dora" }, true, true),
  row("vader-tour", "VADeR on one tour", { method: "vader" }, true, false),
];
const chosen = someOf(
  "BENCH_ROWS",
  rows.map(({ key }) => key),
);

const work = mkdtempSync(join(tmpdir(), "onevideo-one-video-"));
const tour = join(work, "tour");
const tourVideo = join(tour, "tour.mp4");
const trainingOptions = (row: Row) =>
  "dataset" in row.options ? row.options : { ...row.options, video: tourVideo };

log(`building a ${tourMinutes}-minute tour`);
// 16 held-out sequences, not the demo's 4: the dense probe trains on half of them and tests on
// the rest, and with 2 + 2 sequences the test objects' classes were mostly absent from training.
const heldOutSequences = 16;
await buildTour({ ...demoTourSettings, seconds: tourMinutes * 60, sequences: heldOutSequences, out: tour });

/**
 * Wall-clock seconds per step of a row's recipe on this machine, from a short probe run: the
 * time between its 10th and 30th steps, everything in the loop included. (Steps 3-12 by their
 * step_ms had given DINO on Fashion-MNIST 4482 steps for 30 minutes that took 39.)
 */
async function secondsPerStep(row: Row): Promise<number> {
  const [from, to] = [10, 30];
  const at: number[] = [];
  const onProgress = (report: { step: number } | null) => {
    if (report) at[report.step] = performance.now();
  };
  const out = join(work, `probe-${row.key}`);
  await pretrain(
    {
      ...trainingOptions(row),
      preset: "cpu",
      steps: to,
      logEvery: 10,
      checkpointEvery: 1000,
      out,
    },
    { onProgress },
  );
  return (at[to] - at[from]) / (to - from) / 1000;
}

/** The checkpoint of one seed of a row: trained for the budget, or the untrained network. */
async function checkpointOf(row: Row, seed: number, steps: number): Promise<string> {
  const out = join(work, `${row.key}-seed${seed}`);
  if (!row.trained)
    return writeUntrainedNetwork(resolveConfig({ ...trainingOptions(row), preset: "cpu", seed }), out);
  log(`pretraining ${row.name}, seed ${seed}: ${steps} steps`);
  const checkpointEvery = Math.max(1, Math.ceil(steps / checkpointsPerRun));
  await pretrain({
    ...trainingOptions(row),
    preset: "cpu",
    seed,
    steps,
    logEvery: 50,
    checkpointEvery,
    keepCheckpoints: checkpointsPerRun,
    out,
  });
  return out;
}

function scores(checkpoint: string, vit: boolean, name: string) {
  const fashion = { checkpoint, dataset: "fashion-mnist" as const, ...evalImages };
  const davis = evaluateDavis({
    checkpoint,
    davis: join(tour, "davis"),
    split: "val",
    size: 96,
    out: join(work, "masks", `${name}-${Math.random().toString(36).slice(2)}`),
  });
  return {
    knnTop1: vit ? evaluateKnn({ ...fashion, k: 20 }).results[0].top1 : null,
    // Features computed once (not DINO's augmented passes): 100 epochs cost seconds, not hours.
    linearTop1: vit ? (evaluateLinear({ ...fashion, cachedFeatures: true }).top1 as number) : null,
    jf: davis.JF * 100,
    denseMiou: evaluateDense({ checkpoint, tour }).mIoU * 100,
    discovery: vit ? evaluateDiscovery({ checkpoint, tour }).meanIou * 100 : null,
  };
}
type Scores = ReturnType<typeof scores>;
const columns = ["knnTop1", "linearTop1", "jf", "denseMiou", "discovery"] as const;

const results: { key: string; name: string; steps: number | null; mean: Scores; sd: Scores }[] = [];
for (const row of rows.filter(({ key }) => chosen.includes(key))) {
  const steps = !row.trained
    ? 0
    : (pinnedSteps ?? Math.max(1, Math.floor((minutes * 60) / (await secondsPerStep(row)))));
  const perSeed: Scores[] = [];
  for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
    const checkpoint = await checkpointOf(row, seed, steps);
    log(`evaluating ${row.name}, seed ${seed}`);
    perSeed.push(scores(checkpoint, row.vit, `${row.key}-${seed}`));
  }
  const summarize = (pick: (values: number[]) => number) =>
    Object.fromEntries(
      columns.map((column) => {
        const values = perSeed.map((s) => s[column]).filter((v): v is number => v !== null);
        return [column, values.length === 0 ? null : +pick(values).toFixed(2)];
      }),
    ) as Scores;
  results.push({
    key: row.key,
    name: row.name,
    steps: row.trained ? steps : null,
    mean: summarize(mean),
    sd: summarize(sampleStandardDeviation),
  });
}

const seedsRun =
  seeds < 2
    ? `${firstSeed === 0 ? "1 seed" : `seed ${firstSeed}`} (no spread)`
    : `${firstSeed === 0 ? `${seeds} seeds` : `seeds ${firstSeed}-${firstSeed + seeds - 1}`} (mean ± sd)`;
const budget =
  pinnedSteps === null
    ? `${minutes} minutes of training a row on this machine`
    : `${pinnedSteps} steps of training a row, set by BENCH_STEPS`;
// One seed has no spread to show: its figure stands alone rather than as "± 0.0".
const cell = (mean: number | null, sd: number | null) =>
  mean === null ? "-" : seeds < 2 ? mean.toFixed(1) : `${mean.toFixed(1)} ± ${sd!.toFixed(1)}`;
console.log(
  `\n${budget} (each method's cpu preset); ${seedsRun}; ` +
    `Fashion-MNIST ${evalImages.trainLimit} train / ${evalImages.testLimit} test images; the tour's ${heldOutSequences} held-out sequences\n`,
);
console.log(
  "| encoder | steps | k-NN top-1 (k=20) | linear top-1 | J&F (tour) | dense mIoU (tour) | discovery mean IoU (tour) |",
);
console.log("|---|---|---|---|---|---|---|");
for (const { name, steps, mean, sd } of results) {
  const figures = columns.map((column) => cell(mean[column], sd[column]));
  console.log(`| ${name} | ${steps ?? "-"} | ${figures.join(" | ")} |`);
}
console.log(
  JSON.stringify({ minutes, seeds, firstSeed, pinnedSteps, tourMinutes, ...evalImages, rows: results }),
);
