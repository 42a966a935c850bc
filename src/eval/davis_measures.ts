// The DAVIS region and boundary measures on binary masks, as davis2017-evaluation
// computes them: J (Jaccard index) and F (boundary F-measure with a disk tolerance).

/** A binary mask: non-zero bytes are set, row-major. */
export interface BinaryMask {
  width: number;
  height: number;
  data: Uint8Array;
}

function checkSizes(gt: BinaryMask, ...others: (BinaryMask | undefined)[]): void {
  for (const other of others) {
    if (other && (other.width !== gt.width || other.height !== gt.height)) {
      throw new Error(`mask sizes differ: ${gt.width}x${gt.height} and ${other.width}x${other.height}`);
    }
  }
}

/** J = |pred ∧ gt ∧ ¬void| / |(pred ∨ gt) ∧ ¬void|, and 1 when that union is empty. */
export function regionJaccard(gt: BinaryMask, pred: BinaryMask, voidMask?: BinaryMask): number {
  checkSizes(gt, pred, voidMask);
  let intersection = 0;
  let union = 0;
  for (let i = 0; i < gt.data.length; i++) {
    if (voidMask && voidMask.data[i]) continue;
    const inGt = gt.data[i] !== 0;
    const inPred = pred.data[i] !== 0;
    if (inGt && inPred) intersection++;
    if (inGt || inPred) union++;
  }
  return union === 0 ? 1 : intersection / union;
}

/**
 * The one-pixel boundary of a mask (David Martin's seg2bmap): a pixel is on the boundary
 * when it differs from its right, lower or lower-right neighbour (0 outside the image),
 * except that the last row compares only to the right, the last column only downwards,
 * and the bottom-right pixel is never a boundary.
 */
export function boundaryMap(mask: BinaryMask): Uint8Array {
  const { width, height, data } = mask;
  const at = (x: number, y: number) => (x < width && y < height && data[y * width + x] !== 0 ? 1 : 0);
  const boundary = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const here = at(x, y);
      const right = here ^ at(x + 1, y);
      const down = here ^ at(x, y + 1);
      const diagonal = here ^ at(x + 1, y + 1);
      const lastRow = y === height - 1;
      const lastColumn = x === width - 1;
      let edge: number;
      if (lastRow && lastColumn) edge = 0;
      else if (lastColumn)
        edge = down; // the last column is written after the last row: it wins
      else if (lastRow) edge = right;
      else edge = right | down | diagonal;
      boundary[y * width + x] = edge;
    }
  }
  return boundary;
}

/**
 * Dilation by a disk of radius `radius` (every offset with dx² + dy² ≤ radius²); pixels
 * outside the image take no part, as with OpenCV's default border for dilation.
 */
export function dilateDisk(map: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  const reach = Math.floor(radius);
  // The widest |dx| for each |dy|, found exactly by integer comparison.
  const halfWidths: number[] = [];
  for (let dy = 0; dy <= reach; dy++) {
    let dx = 0;
    while ((dx + 1) * (dx + 1) + dy * dy <= radius * radius) dx++;
    halfWidths.push(dx);
  }
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!map[y * width + x]) continue;
      for (let dy = -reach; dy <= reach; dy++) {
        const row = y + dy;
        if (row < 0 || row >= height) continue;
        const half = halfWidths[Math.abs(dy)];
        out.fill(1, row * width + Math.max(0, x - half), row * width + Math.min(width - 1, x + half) + 1);
      }
    }
  }
  return out;
}

/** The boundary tolerance in pixels: `boundTh` itself from 1 up, else that fraction of the diagonal. */
export function boundaryTolerance(width: number, height: number, boundTh: number): number {
  return boundTh >= 1 ? boundTh : Math.ceil(boundTh * Math.sqrt(height * height + width * width));
}

export interface BoundaryScore {
  precision: number;
  recall: number;
  F: number;
}

/** Boundary precision, recall and F-measure of `pred` against `gt`, void pixels cleared from both first. */
export function boundaryScore(
  gt: BinaryMask,
  pred: BinaryMask,
  voidMask?: BinaryMask,
  boundTh = 0.008,
): BoundaryScore {
  checkSizes(gt, pred, voidMask);
  const { width, height } = gt;
  const withoutVoid = (mask: BinaryMask): BinaryMask => ({
    width,
    height,
    data: voidMask ? mask.data.map((value, i) => (value && !voidMask.data[i] ? 1 : 0)) : mask.data,
  });
  const predBoundary = boundaryMap(withoutVoid(pred));
  const gtBoundary = boundaryMap(withoutVoid(gt));
  const radius = boundaryTolerance(width, height, boundTh);
  const predNear = dilateDisk(predBoundary, width, height, radius);
  const gtNear = dilateDisk(gtBoundary, width, height, radius);
  let predCount = 0;
  let gtCount = 0;
  let predMatched = 0;
  let gtMatched = 0;
  for (let i = 0; i < predBoundary.length; i++) {
    if (predBoundary[i]) {
      predCount++;
      if (gtNear[i]) predMatched++;
    }
    if (gtBoundary[i]) {
      gtCount++;
      if (predNear[i]) gtMatched++;
    }
  }
  let precision: number;
  let recall: number;
  if (predCount === 0 && gtCount > 0) [precision, recall] = [1, 0];
  else if (predCount > 0 && gtCount === 0) [precision, recall] = [0, 1];
  else if (predCount === 0 && gtCount === 0) [precision, recall] = [1, 1];
  else [precision, recall] = [predMatched / predCount, gtMatched / gtCount];
  const F = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, F };
}

/** The boundary F-measure alone (davis2017's db_eval_boundary for one frame). */
export function boundaryF(gt: BinaryMask, pred: BinaryMask, voidMask?: BinaryMask, boundTh = 0.008): number {
  return boundaryScore(gt, pred, voidMask, boundTh).F;
}
