// A tiny DAVIS-style ground truth and prediction pair whose scores are worked out by hand
// (see davis_score.test.ts).
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type IndexMask, writeIndexMask } from "../../src/data/davis.ts";

/** A width x height id mask with the rectangles [id, x0, y0, x1, y1] (inclusive) painted in order. */
export function paint(width: number, height: number, ...rects: [number, number, number, number, number][]) {
  const data = new Uint8Array(width * height);
  for (const [id, x0, y0, x1, y1] of rects)
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) data[y * width + x] = id;
  return { width, height, data };
}

function writeSequence(root: string, sequence: string, frames: Record<string, IndexMask>): void {
  mkdirSync(join(root, sequence), { recursive: true });
  for (const [name, mask] of Object.entries(frames))
    writeIndexMask(join(root, sequence, `${name}.png`), mask);
}

/**
 * Sequence "a" (12x10, frames 00000-00003): object 1 is the square x, y 2..5, object 2
 * the square x 8..10, y 6..8. Sequence "b" (10x8, frames 00000-00002): object 1 is the
 * square x, y 1..2 and x 6..7, y 5..6 is void (255). The predictions are those the test
 * scores by hand; frames 00000 and 00003 of "a" are predicted wrong, and "b" has only its
 * middle frame, since the first and last frames are not scored.
 */
export function writeDavisFixture(dir: string): { gt: string; pred: string } {
  const gt = join(dir, "gt");
  const pred = join(dir, "pred");
  const truthA = paint(12, 10, [1, 2, 2, 5, 5], [2, 8, 6, 10, 8]);
  writeSequence(gt, "a", { "00000": truthA, "00001": truthA, "00002": truthA, "00003": truthA });
  const truthB = paint(10, 8, [1, 1, 1, 2, 2], [255, 6, 5, 7, 6]);
  writeSequence(gt, "b", { "00000": truthB, "00001": truthB, "00002": truthB });
  writeSequence(pred, "a", {
    "00000": paint(12, 10),
    "00001": paint(12, 10, [1, 2, 2, 5, 5]), // object 2 missed
    "00002": paint(12, 10, [1, 2, 2, 3, 5], [2, 8, 6, 10, 8]), // object 1: its left half
    "00003": paint(12, 10),
  });
  writeSequence(pred, "b", { "00001": paint(10, 8, [1, 1, 1, 2, 2], [1, 6, 5, 7, 6]) }); // and the void area
  return { gt, pred };
}

/**
 * A DAVIS root with one sequence "still": 4 equal 64x48 frames (ffmpeg's test pattern)
 * and two objects on the 8-pixel patch grid. They are full-width bands: DINO's bilinear
 * upsampling of patch labels rounds the corners of a square off (a corner pixel gets
 * 0.56^2 < 1/2 of its object), a band has none.
 */
export function writeStaticDavis(
  dir: string,
  truth = paint(64, 48, [1, 0, 8, 63, 23], [2, 0, 32, 63, 39]),
): string {
  const root = join(dir, "davis");
  const images = join(root, "JPEGImages", "480p", "still");
  const annotations = join(root, "Annotations", "480p", "still");
  mkdirSync(images, { recursive: true });
  mkdirSync(annotations, { recursive: true });
  for (let frame = 0; frame < 4; frame++) {
    const name = String(frame).padStart(5, "0");
    execFileSync("ffmpeg", [
      ...["-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x48", "-frames:v", "1"],
      join(images, `${name}.jpg`),
    ]);
    writeIndexMask(join(annotations, `${name}.png`), truth);
  }
  return root;
}
