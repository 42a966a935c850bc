// A tiny DAVIS-style ground truth and prediction pair whose scores are worked out by hand
// (see davis_score.test.ts).
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
