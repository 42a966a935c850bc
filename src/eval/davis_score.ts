// DAVIS-2017 semi-supervised scoring of a folder of predicted masks against the annotations,
// with davis2017-evaluation's rules: the first and last frames are not scored, the objects
// are the ids of the first annotation, and J and F are averaged per object, then over objects.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  davisAnnotationsDir,
  type IndexMask,
  listFrameNames,
  listSequenceFolders,
  listSequences,
  readIndexMask,
  voidLabel,
} from "../data/davis.ts";
import { InputError } from "../errors.ts";
import { type BinaryMask, boundaryF, regionJaccard } from "./davis_measures.ts";

export interface DavisScoreOptions {
  /** With a DAVIS root as ground truth: the ImageSets/2017 split to score; val when that list exists. */
  split?: string;
  /** Score only these sequences. */
  sequences?: string[];
  /**
   * Leave ground-truth void pixels (255) out of J and F. davis2017-evaluation builds a void
   * mask but compares it after turning the annotations into booleans, so it is always empty
   * and void pixels count as background: false (the default) reproduces its numbers.
   */
  excludeVoid?: boolean;
  /** F's boundary tolerance: a fraction of the image diagonal below 1, else pixels. */
  boundTh?: number;
}

export interface ObjectScore {
  J: number;
  F: number;
}

export interface SequenceScore {
  J: number;
  F: number;
  JF: number;
  objects: Record<string, ObjectScore>;
}

export interface DavisScore {
  /** Mean over every object of every sequence (davis2017's J-Mean). */
  J: number;
  /** Likewise for F (F-Mean). */
  F: number;
  /** (J + F) / 2, the J&F-Mean. */
  JF: number;
  sequences: Record<string, SequenceScore>;
}

/** Mean ignoring NaN, as numpy's nanmean. */
function nanMean(values: number[]): number {
  const finite = values.filter((value) => !Number.isNaN(value));
  return finite.reduce((sum, value) => sum + value, 0) / finite.length;
}

function mean(values: number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** The pixels equal to `id`, as a binary mask. */
function select(mask: IndexMask, id: number): BinaryMask {
  return { width: mask.width, height: mask.height, data: mask.data.map((value) => (value === id ? 1 : 0)) };
}

/** The annotation folder (`gtDir` itself, or a DAVIS root's Annotations/480p) and its sequences. */
function groundTruthSequences(
  gtDir: string,
  options: DavisScoreOptions,
): { maskRoot: string; sequences: string[] } {
  const annotations = davisAnnotationsDir(gtDir);
  const isDavisRoot = isDirectory(annotations);
  if (options.split !== undefined && !isDavisRoot) {
    throw new InputError(`a split needs a DAVIS root as ground truth, and ${annotations} does not exist`);
  }
  const maskRoot = isDavisRoot ? annotations : gtDir;
  if (options.sequences) return { maskRoot, sequences: options.sequences };
  const split = options.split ?? "val";
  if (
    isDavisRoot &&
    (options.split !== undefined || existsSync(join(gtDir, "ImageSets", "2017", "val.txt")))
  ) {
    return { maskRoot, sequences: listSequences(gtDir, split) };
  }
  return { maskRoot, sequences: listSequenceFolders(maskRoot) };
}

function largestObjectId(mask: IndexMask): number {
  let largest = 0;
  for (const value of mask.data) if (value !== voidLabel && value > largest) largest = value;
  return largest;
}

function readPrediction(path: string, gt: IndexMask, objects: number): IndexMask {
  if (!existsSync(path)) {
    throw new InputError(`prediction frame missing: ${path}; write a mask for every annotated frame`);
  }
  const pred = readIndexMask(path);
  if (pred.width !== gt.width || pred.height !== gt.height) {
    throw new InputError(
      `${path} is ${pred.width}x${pred.height} but its annotation is ${gt.width}x${gt.height}; ` +
        "write masks at the annotation's size",
    );
  }
  const largest = pred.data.reduce((most, value) => Math.max(most, value), 0);
  if (largest > objects) {
    throw new InputError(
      `${path} holds object id ${largest} but the sequence has ${objects} object${objects > 1 ? "s" : ""}; ` +
        `ids must be 0 (background) or 1..${objects}, as in the first annotation`,
    );
  }
  return pred;
}

function scoreSequence(
  predDir: string,
  maskRoot: string,
  sequence: string,
  options: DavisScoreOptions,
): SequenceScore {
  const gtFolder = join(maskRoot, sequence);
  const frames = listFrameNames(gtFolder, ".png");
  if (frames.length < 3) {
    throw new InputError(
      `${gtFolder} has ${frames.length} annotated frames; scoring skips the first and last, so it needs 3 or more`,
    );
  }
  const first = readIndexMask(join(gtFolder, `${frames[0]}.png`));
  const objects = largestObjectId(first);
  if (objects === 0) throw new InputError(`${join(gtFolder, frames[0])}.png annotates no object`);
  const predFolder = join(predDir, sequence);
  if (!isDirectory(predFolder)) {
    throw new InputError(
      `prediction sequence folder missing: ${predFolder}; write one folder of <frame>.png masks per sequence`,
    );
  }
  const perObject = Array.from({ length: objects }, () => ({ J: [] as number[], F: [] as number[] }));
  for (const frame of frames.slice(1, -1)) {
    const gtPath = join(gtFolder, `${frame}.png`);
    const gt = readIndexMask(gtPath);
    if (gt.width !== first.width || gt.height !== first.height) {
      throw new InputError(`${gtPath} is ${gt.width}x${gt.height}, unlike the sequence's first annotation`);
    }
    const pred = readPrediction(join(predFolder, `${frame}.png`), gt, objects);
    const voidMask = options.excludeVoid ? select(gt, voidLabel) : undefined;
    for (let id = 1; id <= objects; id++) {
      const gtObject = select(gt, id);
      const predObject = select(pred, id);
      perObject[id - 1].J.push(regionJaccard(gtObject, predObject, voidMask));
      perObject[id - 1].F.push(boundaryF(gtObject, predObject, voidMask, options.boundTh));
    }
  }
  const scores: Record<string, ObjectScore> = {};
  perObject.forEach((series, index) => {
    scores[String(index + 1)] = { J: nanMean(series.J), F: nanMean(series.F) };
  });
  const J = mean(Object.values(scores).map((score) => score.J));
  const F = mean(Object.values(scores).map((score) => score.F));
  return { J, F, JF: (J + F) / 2, objects: scores };
}

/** Scores `predDir/<seq>/<frame>.png` masks against `gtDir` (a folder of such masks, or a DAVIS root). */
export function scoreDavis(predDir: string, gtDir: string, options: DavisScoreOptions = {}): DavisScore {
  if (!isDirectory(predDir)) throw new InputError(`prediction folder not found: ${predDir}`);
  const { maskRoot, sequences } = groundTruthSequences(gtDir, options);
  if (sequences.length === 0) throw new InputError(`${maskRoot} holds no sequence folders`);
  const results: Record<string, SequenceScore> = {};
  const allJ: number[] = [];
  const allF: number[] = [];
  for (const sequence of sequences) {
    const score = scoreSequence(predDir, maskRoot, sequence, options);
    results[sequence] = score;
    for (const object of Object.values(score.objects)) {
      allJ.push(object.J);
      allF.push(object.F);
    }
  }
  const J = mean(allJ);
  const F = mean(allF);
  return { J, F, JF: (J + F) / 2, sequences: results };
}
