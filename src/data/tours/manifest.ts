// A tour folder's description, tour.json: what was rendered (size, rate, objects on screen)
// and where the held-out DAVIS sequences and their label maps are. Written by the tour
// builder, read by the evaluations; this file is the one place that knows its layout.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../../errors.ts";

export const tourManifestFile = "tour.json";

export interface TourObjectRecord {
  /** In order of arrival; arrivals that left before the tour's first frame are not listed. */
  id: number;
  label: number;
  className: string;
  /** Index in Fashion-MNIST's training set. */
  sample: number;
  /** Seconds on screen, clipped to the tour. */
  start: number;
  end: number;
  firstFrame: number;
  lastFrame: number;
}

export interface TourManifest {
  seed: number;
  width: number;
  height: number;
  fps: number;
  frames: number;
  seconds: number;
  codec: string;
  density: number;
  stripHeight: number;
  photos: string[];
  objects: TourObjectRecord[];
  davis: {
    root: string;
    split: string;
    sequences: (SequenceRecord & { classNames: string[] })[];
    /** Absent in tours built before the semantic maps existed. */
    semantic?: SemanticRecord;
  };
}

/** The held-out sequences' semantic label maps: <davis root>/<folder>/<sequence>/<frame>.png. */
export interface SemanticRecord {
  folder: string;
  /** By pixel value: 0 background, 1 + c Fashion-MNIST class c. */
  classNames: string[];
}

export interface SequenceObject {
  /** The id in the sequence's masks. */
  davisId: number;
  /** The object's id in the scene. */
  objectId: number;
  label: number;
  sample: number;
}

export interface SequenceRecord {
  name: string;
  frames: number;
  objects: SequenceObject[];
}

export function writeTourManifest(tourDir: string, manifest: TourManifest): void {
  writeFileSync(join(tourDir, tourManifestFile), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** The manifest of a tour folder; one line naming the folder when it is not one. */
export function readTourManifest(tourDir: string): TourManifest {
  const path = join(tourDir, tourManifestFile);
  if (!existsSync(path)) {
    throw new InputError(
      `${tourDir} is not a tour folder (no ${tourManifestFile}); build one with 'onevideo tours'`,
    );
  }
  try {
    return JSON.parse(readFileSync(path, "utf8")) as TourManifest;
  } catch (error) {
    throw new InputError(
      `${path} is not valid JSON (${(error as Error).message}); rebuild it with 'onevideo tours'`,
    );
  }
}
