// Semantic label maps of the held-out sequences: every visible garment, whenever it entered,
// labelled with its Fashion-MNIST class, for dense probes. (The DAVIS instance masks label
// only the objects of each sequence's first frame, as the semi-supervised task asks.)
import { existsSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../../errors.ts";
import { readTourManifest } from "./manifest.ts";
import type { TourObject } from "./objects.ts";

/** Where a tour's DAVIS root keeps them: <root>/SemanticAnnotations/<sequence>/<frame>.png. */
export const semanticFolder = "SemanticAnnotations";

export function semanticAnnotationsDir(root: string): string {
  return join(root, semanticFolder);
}

/** Index 0 is the background; class c of Fashion-MNIST is index c + 1. */
export function semanticClassNames(fashionClassNames: readonly string[]): string[] {
  return ["background", ...fashionClassNames];
}

/** Each scene object's value in the label maps: 1 + its class. */
export function semanticValues(objects: readonly TourObject[]): Map<number, number> {
  return new Map(objects.map((object) => [object.id, object.label + 1]));
}

/** A label map from the renderer's object ids; 0 for background. */
export function semanticMap(ids: Int32Array, values: ReadonlyMap<number, number>): Uint8Array {
  const map = new Uint8Array(ids.length);
  for (let pixel = 0; pixel < ids.length; pixel++) {
    if (ids[pixel] !== 0) map[pixel] = values.get(ids[pixel])!;
  }
  return map;
}

/** A tour folder's held-out sequences with semantic maps, as tour.json describes them. */
export interface TourSemantics {
  /** The DAVIS root: JPEGImages/480p/<sequence>/*.jpg. */
  davisRoot: string;
  /** <dir>/<sequence>/<frame>.png label maps. */
  labelsDir: string;
  sequences: string[];
  /** By label value; 0 is the background. */
  classNames: string[];
}

const rebuild = "rebuild it with 'onevideo tours'";

export function readTourSemantics(tourDir: string): TourSemantics {
  const manifest = readTourManifest(tourDir);
  const davisRoot = join(tourDir, manifest.davis.root);
  const semantic = manifest.davis.semantic;
  const labelsDir = join(davisRoot, semantic?.folder ?? semanticFolder);
  if (semantic === undefined || !existsSync(labelsDir)) {
    throw new InputError(
      `${tourDir} has no semantic label maps (${labelsDir}; the tour predates them); ${rebuild}`,
    );
  }
  return {
    davisRoot,
    labelsDir,
    sequences: manifest.davis.sequences.map((sequence) => sequence.name),
    classNames: semantic.classNames,
  };
}
