// The bundled default. `onevideo demo` builds a short generated tour (Fashion-MNIST garments
// walking past photos), trains a small ViT on it with the cpu preset, and measures what it
// learned on ground truth: k-NN on Fashion-MNIST's test garments, next to the same network
// untrained. vtest.avi (opencv-doc's street video) and its demo preset stay the benchmarks'
// and tests' fixed footage: a fixed camera and a few walkers, where nothing visible is learned.
import { existsSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildTour, type TourSettings } from "../data/tours/build.ts";
import { evaluateKnn } from "../eval/knn_evaluation.ts";
import { dinoDemoPreset } from "../methods/dino.ts";
import { defaultCacheRoot } from "../video/frame_store.ts";
import { checkNewRunFolder, type PretrainResult, pretrain, resolveConfig } from "./pretrain.ts";
import { RunFolder } from "../train/run_folder.ts";
import { mean, sampleStandardDeviation } from "../util/statistics.ts";
import { writeUntrainedNetwork } from "./untrained.ts";

export const demoVideo = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";

/** The benchmarks' fixed run: DINO's demo preset on vtest.avi. */
export const demoOptions = { method: "dino", video: demoVideo, ...dinoDemoPreset };

/** The demo's footage: two minutes of tour at its default size, a few garments on screen. */
export const demoTourSettings: Omit<TourSettings, "out"> = {
  seed: 0,
  width: 128,
  height: 96,
  fps: 10,
  seconds: 120,
  density: 4,
  photos: 12,
  sequences: 4,
  sequenceFrames: 24,
};

/** The demo's training: DINO's cpu preset for 300 steps (about 2.5 minutes), logged every 10. */
export const demoTraining = { method: "dino", preset: "cpu", steps: 300, logEvery: 10 } as const;

/** The measure: k-NN top-1 (k = 20) over this many Fashion-MNIST train and test images. */
export const demoKnnImages = { trainLimit: 5000, testLimit: 2000 };

/** Seeds of untrained networks whose spread is the demo's yardstick. */
const spreadSeeds = 3;

/** Where the demo tour is cached: beside the frame stores, named by its settings. */
export function demoTourFolder(): string {
  const { seed, seconds, width, height, density } = demoTourSettings;
  return join(defaultCacheRoot(), `demo-tour-s${seed}-${seconds}s-${width}x${height}-d${density}`);
}

/** The demo tour, built once into the cache (same seed, same bytes). */
export async function demoTour(): Promise<string> {
  const folder = demoTourFolder();
  if (existsSync(join(folder, "tour.json"))) return folder;
  // Built beside its place and moved in whole, so a stopped build leaves no half tour.
  const partial = `${folder}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  try {
    await buildTour({ ...demoTourSettings, out: partial });
    renameSync(partial, folder);
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
  return folder;
}

export interface DemoPlan {
  tour: string;
  tourSeconds: number;
  method: string;
  preset: string;
  arch: string;
  patchSize: number;
  imageSize: number;
  steps: number;
  out: string;
}

export interface DemoResult {
  run: string;
  measure: string;
  untrained: number;
  trained: number;
  gain: number;
  /** Sample standard deviation of the measure over untrained networks of `spreadSeeds` seeds. */
  spread: number;
  spreadOf: string;
  firstLoss: number;
  lastLoss: number;
  /** Mean loss of the first and of the last fifth of the logged steps. */
  lossFirstFifth: number;
  lossLastFifth: number;
  steps: number;
  stoppedBy?: NodeJS.Signals;
  summary: PretrainResult;
}

function knnTop1(checkpoint: string): number {
  return evaluateKnn({ checkpoint, dataset: "fashion-mnist", k: 20, ...demoKnnImages }).results[0].top1;
}

/**
 * Trains the demo and measures it. `overrides` are method options over the demo's (steps,
 * seed, ...); `onPlan` hears what it will do before any work starts.
 */
export async function runDemo(
  out: string,
  overrides: Record<string, unknown>,
  onPlan: (plan: DemoPlan) => void,
): Promise<DemoResult> {
  const tour = demoTourFolder();
  const options = { ...demoTraining, video: join(tour, "tour.mp4"), ...overrides, out };
  const config = resolveConfig(options);
  checkNewRunFolder(new RunFolder(out)); // before the tour and the untrained networks
  onPlan({
    tour,
    tourSeconds: demoTourSettings.seconds,
    method: config.method,
    preset: String(options.preset),
    arch: config.arch,
    patchSize: config.patchSize,
    imageSize: config.imageSize,
    steps: config.steps ?? 0,
    out,
  });
  await demoTour();
  const scratch = mkdtempSync(join(tmpdir(), "onevideo-demo-"));
  let floors: number[];
  try {
    floors = Array.from({ length: spreadSeeds }, (_, i) =>
      knnTop1(writeUntrainedNetwork({ ...config, seed: config.seed + i }, join(scratch, `seed-${i}`))),
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const summary = await pretrain(options);
  const trained = summary.stoppedBy ? Number.NaN : knnTop1(summary.runDir);
  const untrained = floors[0];
  const losses = new RunFolder(summary.runDir).readMetrics().map((record) => record.loss);
  const fifth = Math.max(1, Math.floor(losses.length / 5));
  return {
    run: summary.runDir,
    measure: "k-NN top-1 (k=20) on Fashion-MNIST test garments, %",
    untrained,
    trained,
    gain: +(trained - untrained).toFixed(2),
    spread: +sampleStandardDeviation(floors).toFixed(2),
    spreadOf: `untrained networks of ${spreadSeeds} seeds`,
    firstLoss: summary.firstLoss,
    lastLoss: summary.lastLoss,
    lossFirstFifth: +mean(losses.slice(0, fifth)).toFixed(4),
    lossLastFifth: +mean(losses.slice(-fifth)).toFixed(4),
    steps: summary.steps,
    stoppedBy: summary.stoppedBy,
    summary,
  };
}
