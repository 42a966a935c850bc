// J and F on small masks whose answers are worked out by hand in the comments.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type BinaryMask,
  boundaryF,
  boundaryMap,
  boundaryScore,
  boundaryTolerance,
  dilateDisk,
  regionJaccard,
} from "../../src/eval/davis_measures.ts";

/** A mask from rows of '0'/'1' characters. */
function drawn(...rows: string[]): BinaryMask {
  return { width: rows[0].length, height: rows.length, data: Uint8Array.from(rows.join(""), Number) };
}

/** A width x height mask with the rectangles [x0, y0, x1, y1] (inclusive) set. */
function boxes(width: number, height: number, ...rects: [number, number, number, number][]): BinaryMask {
  const data = new Uint8Array(width * height);
  for (const [x0, y0, x1, y1] of rects)
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) data[y * width + x] = 1;
  return { width, height, data };
}

function rows(map: Uint8Array, width: number): string[] {
  return Array.from({ length: map.length / width }, (_, y) =>
    map.subarray(y * width, (y + 1) * width).join(""),
  );
}

test("J: intersection over union, void pixels left out, 1 when nothing is left", () => {
  const gt = drawn("1100", "1100", "1100", "1100");
  const pred = drawn("0110", "0110", "0110", "0110");
  // Column 1 is shared (4 pixels); columns 0-2 are the union (12): 4 / 12.
  assert.equal(regionJaccard(gt, pred), 1 / 3);
  // Making column 0 void leaves columns 1-2 as the union (8): 4 / 8.
  assert.equal(regionJaccard(gt, pred, drawn("1000", "1000", "1000", "1000")), 0.5);
  const empty = drawn("0000", "0000");
  assert.equal(regionJaccard(empty, empty), 1, "both empty");
  assert.equal(regionJaccard(drawn("0000", "0110"), empty), 0, "missed object");
  assert.equal(
    regionJaccard(drawn("1100", "0000"), drawn("0011", "0000"), drawn("1111", "0000")),
    1,
    "all void",
  );
});

test("boundary map: the pixels that differ from the right, lower or lower-right neighbour", () => {
  // For the 2x2 square, outside pixels just above/left of it and inside pixels on its
  // right/bottom edge differ from a neighbour: the ring is shifted half a pixel up-left.
  const square = drawn("00000", "01100", "01100", "00000");
  assert.deepEqual(rows(boundaryMap(square), 5), ["11100", "10100", "11100", "00000"]);
  // Last column: compared with the pixel below only; last row: with the right one only;
  // the bottom-right corner never counts. (1,1) sees the set pixel diagonally.
  const corner = drawn("000", "000", "001");
  assert.deepEqual(rows(boundaryMap(corner), 3), ["000", "011", "010"]);
  // A full mask has no boundary at all (the image border is not one).
  assert.deepEqual(rows(boundaryMap(drawn("111", "111", "111")), 3), ["000", "000", "000"]);
});

test("tolerance: a fraction of the diagonal rounded up, or pixels from 1 up", () => {
  assert.equal(boundaryTolerance(854, 480, 0.008), 8); // 0.008 * 979.6 = 7.84
  assert.equal(boundaryTolerance(40, 30, 0.008), 1); // 0.008 * 50 = 0.4
  assert.equal(boundaryTolerance(40, 30, 0.03), 2); // 1.5
  assert.equal(boundaryTolerance(40, 30, 3), 3);
});

test("dilation by a disk: offsets with dx² + dy² <= r², clipped at the image border", () => {
  const centre = new Uint8Array(49);
  centre[3 * 7 + 3] = 1;
  // Radius 3: |dx| <= 3 on the middle row, 2 for |dy| = 1 (1 + 4 <= 9) and |dy| = 2 (4 + 4 <= 9),
  // 0 for |dy| = 3 (a diamond would drop (2, 2), a square would keep (3, 3)).
  const disk = ["0001000", "0111110", "0111110", "1111111", "0111110", "0111110", "0001000"];
  assert.deepEqual(rows(dilateDisk(centre, 7, 7, 3), 7), disk);
  // A corner pixel keeps only the quarter inside the image.
  const corner = new Uint8Array(49);
  corner[0] = 1;
  assert.deepEqual(rows(dilateDisk(corner, 7, 7, 3), 7), [
    ...disk.slice(3).map((row) => row.slice(3) + "000"),
    "0000000",
    "0000000",
    "0000000",
  ]);
});

test("F: a square against the same square shifted within and beyond the tolerance", () => {
  // A 10x10 square at x, y in 10..19 has as boundary the ring of the box x, y in 9..19
  // (40 pixels). With a tolerance of 2 pixels (0.03 of the 50-pixel diagonal):
  const gt = boxes(40, 30, [10, 10, 19, 19]);
  // shifted 2 right, every boundary pixel has its twin 2 pixels away: P = R = 1.
  assert.equal(boundaryF(gt, boxes(40, 30, [12, 10, 21, 19]), undefined, 0.03), 1);
  // Shifted 3 right (ring x 12..22): of the 40 predicted ring pixels, the left column
  // matches at y 9, 10, 11, 17, 18, 19 (within 2 of the gt's top or bottom row: 6), the
  // top and bottom rows at x 13..21 (9 each), the right column x = 22 nowhere (3 away):
  // 24 / 40. By mirror symmetry recall is 24 / 40 too, so F = 0.6.
  const shifted = boundaryScore(gt, boxes(40, 30, [13, 10, 22, 19]), undefined, 0.03);
  assert.equal(shifted.precision, 0.6);
  assert.equal(shifted.recall, 0.6);
  assert.ok(Math.abs(shifted.F - 0.6) < 1e-12);
  // The same in pixels rather than as a fraction.
  assert.ok(Math.abs(boundaryF(gt, boxes(40, 30, [13, 10, 22, 19]), undefined, 2) - 0.6) < 1e-12);
  // One pixel of tolerance is not enough for a 2-pixel shift any more.
  assert.ok(boundaryF(gt, boxes(40, 30, [12, 10, 21, 19]), undefined, 1) < 1);
});

test("F: empty masks, and masks without any boundary", () => {
  const square = boxes(12, 10, [2, 2, 5, 5]);
  const empty = boxes(12, 10);
  // No predicted boundary but a true one: P = 1, R = 0.
  assert.deepEqual(boundaryScore(square, empty), { precision: 1, recall: 0, F: 0 });
  // A predicted boundary where there is none: P = 0, R = 1.
  assert.deepEqual(boundaryScore(empty, square), { precision: 0, recall: 1, F: 0 });
  assert.deepEqual(boundaryScore(empty, empty), { precision: 1, recall: 1, F: 1 });
  // Full masks have no boundary either, so they score as two empty ones.
  const full = boxes(12, 10, [0, 0, 11, 9]);
  assert.equal(boundaryF(full, full), 1);
});

test("F: void pixels are cleared from both masks before their boundaries are taken", () => {
  // Prediction = the gt square plus a far 4x4 blob. The gt ring has 40 pixels, the
  // prediction's 40 + 16; the 40 match: P = 40 / 56 = 5/7, R = 1, F = 2(5/7) / (12/7) = 5/6.
  const gt = boxes(40, 30, [10, 10, 19, 19]);
  const pred = boxes(40, 30, [10, 10, 19, 19], [30, 2, 33, 5]);
  const tolerance = 2;
  assert.ok(Math.abs(boundaryF(gt, pred, undefined, tolerance) - 5 / 6) < 1e-12);
  // Voiding the blob's area makes the prediction match exactly.
  const voidMask = boxes(40, 30, [29, 1, 34, 6]);
  assert.equal(boundaryF(gt, pred, voidMask, tolerance), 1);
  // J likewise: 100 / 116 without void, 1 with it.
  assert.equal(regionJaccard(gt, pred), 100 / 116);
  assert.equal(regionJaccard(gt, pred, voidMask), 1);
});
