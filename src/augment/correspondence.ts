// VADeR's pixel correspondences between two views: which feature cell of view A shows
// the same source point as which (continuous) location of view B.
//
// Each feature cell (row, col) of A's rows x cols feature map has its centre at
// ((col + 0.5) / cols) * 2 - 1, ((row + 0.5) / rows) * 2 - 1 in A's normalised
// coordinates (align_corners = false). The centre goes through A's matrix to the source
// and through the inverse of B's matrix into B's normalised coordinates, where B's
// feature map is sampled bilinearly (grid_sample, align_corners = false, border
// padding), so B's feature resolution plays no part in the pairing.
//
// A cell is matchable when its source point lies inside the source image (|x|, |y| <= 1)
// and inside B's view (|u|, |v| <= 1). The two views may come from different source
// images, e.g. frames t and t + d of a video: points are then paired by their normalised
// source coordinates, which is right only for a static scene seen by a still camera (the
// natural view change between the frames is taken as zero); moving things are mismatched.
import type { Random } from "../util/random.ts";
import { type Device, F, type Tensor, tensor } from "../torch/index.ts";
import {
  applyAffine,
  insideImage,
  invertAffine,
  type Point,
  pixelsToNormalized,
  type ViewGeometry,
} from "./view_geometry.ts";

/** A feature map's size: n for n x n, or [rows, cols]. */
export type FeatureSize = number | [number, number];

/** One matched pair: a cell of A's feature map and the point of B's view that shows the same spot. */
export interface CellPair {
  row: number;
  col: number;
  /** row * cols + col: the cell's position in A's flattened feature map. */
  index: number;
  /** The point in B's normalised coordinates, in [-1, 1]. */
  pointB: Point;
  /** The shared source point, in normalised source coordinates. */
  source: Point;
}

export interface PairSamplingOptions {
  /** Pairs per image (P); VADeR's default 32. */
  count?: number;
  /**
   * When fewer than `count` cells are matchable (but some are): "repeat" (default) returns
   * `count` pairs, every matchable cell once and the rest drawn uniformly again with
   * replacement; "truncate" returns each matchable cell once, fewer than `count`.
   */
  shortfall?: "repeat" | "truncate";
}

export const defaultPairCount = 32;

/** The centre of cell `index` of `cells` along an axis, in normalised coordinates. */
export function cellCenter(index: number, cells: number): number {
  return pixelsToNormalized(index + 0.5, cells);
}

function featureRowsCols(featureSize: FeatureSize): [number, number] {
  const [rows, cols] = typeof featureSize === "number" ? [featureSize, featureSize] : featureSize;
  if (!(Number.isInteger(rows) && Number.isInteger(cols) && rows > 0 && cols > 0)) {
    throw new Error(`feature size ${rows}x${cols} must be positive integers`);
  }
  return [rows, cols];
}

/** Every matchable cell of A, in row-major order. */
export function matchableCells(
  geometryA: ViewGeometry,
  geometryB: ViewGeometry,
  featureSize: FeatureSize,
): CellPair[] {
  const [rows, cols] = featureRowsCols(featureSize);
  const toViewB = invertAffine(geometryB.matrix);
  const cells: CellPair[] = [];
  for (let row = 0; row < rows; row++) {
    for (let col = 0; col < cols; col++) {
      const source = applyAffine(geometryA.matrix, [cellCenter(col, cols), cellCenter(row, rows)]);
      if (!insideImage(source)) continue;
      const pointB = applyAffine(toViewB, source);
      if (!insideImage(pointB)) continue;
      cells.push({ row, col, index: row * cols + col, pointB, source });
    }
  }
  return cells;
}

export interface PairSample {
  /** The sampled pairs: `count` of them, fewer only with shortfall "truncate", none without overlap. */
  pairs: CellPair[];
  /** How many cells of A were matchable. */
  matchable: number;
}

/**
 * Draws pairs uniformly without replacement among A's matchable cells (see
 * PairSamplingOptions for when there are fewer than asked for; none when the views do
 * not overlap).
 */
export function samplePairs(
  geometryA: ViewGeometry,
  geometryB: ViewGeometry,
  featureSize: FeatureSize,
  random: Random,
  options: PairSamplingOptions = {},
): PairSample {
  const count = options.count ?? defaultPairCount;
  if (!(Number.isInteger(count) && count > 0))
    throw new Error(`samplePairs: count ${count} must be a positive integer`);
  const cells = matchableCells(geometryA, geometryB, featureSize);
  const picks = Math.min(count, cells.length);
  // Partial Fisher-Yates: the first `picks` entries become a uniform draw without replacement.
  for (let i = 0; i < picks; i++) {
    const j = i + Math.floor(random.next() * (cells.length - i));
    [cells[i], cells[j]] = [cells[j], cells[i]];
  }
  const pairs = cells.slice(0, picks);
  if ((options.shortfall ?? "repeat") === "repeat" && cells.length > 0) {
    while (pairs.length < count) pairs.push(cells[random.integer(0, cells.length - 1)]);
  }
  return { pairs, matchable: cells.length };
}

/** The pairs of a batch as tensors for the loss. */
export interface PairBatch {
  /** [N, P] int64: the pair's cell in A's flattened [rows * cols] feature map. */
  indicesA: Tensor;
  /** [N, P, 1, 2] float32: the pair's (x, y) in B's view, a grid for F.gridSample. */
  gridB: Tensor;
  /** [N, P] bool: whether the slot holds a pair (false for padding: no overlap, or truncated). */
  valid: Tensor;
  /** Matchable cells per image. */
  matchable: number[];
  /** The pairs themselves, per image. */
  pairs: CellPair[][];
  /** A's feature map size, [rows, cols]. */
  featureSize: [number, number];
}

/**
 * samplePairs for every image i of a batch (views geometriesA[i] and geometriesB[i], in
 * order from `random`), padded to P = options.count slots per image: padding has index 0,
 * point (0, 0) and valid false.
 */
export function samplePairBatch(
  geometriesA: readonly ViewGeometry[],
  geometriesB: readonly ViewGeometry[],
  featureSize: FeatureSize,
  random: Random,
  options: PairSamplingOptions & { device?: Device } = {},
): PairBatch {
  if (geometriesA.length !== geometriesB.length) {
    throw new Error(`samplePairBatch: ${geometriesA.length} views A but ${geometriesB.length} views B`);
  }
  const count = options.count ?? defaultPairCount;
  const samples = geometriesA.map((geometryA, i) =>
    samplePairs(geometryA, geometriesB[i], featureSize, random, options),
  );
  const slots = geometriesA.length * count;
  const indices = new Array<number>(slots).fill(0);
  const grid = new Float32Array(slots * 2);
  const valid = new Array<number>(slots).fill(0);
  samples.forEach(({ pairs }, image) => {
    pairs.forEach((pair, slot) => {
      const at = image * count + slot;
      indices[at] = pair.index;
      grid[2 * at] = pair.pointB[0];
      grid[2 * at + 1] = pair.pointB[1];
      valid[at] = 1;
    });
  });
  const device = options.device ?? "cpu";
  const shape = [geometriesA.length, count];
  return {
    indicesA: tensor(indices, { shape, dtype: "int64", device }),
    gridB: tensor(grid, { shape: [geometriesA.length, count, 1, 2], device }),
    valid: tensor(valid, { shape, dtype: "bool", device }),
    matchable: samples.map((sample) => sample.matchable),
    pairs: samples.map((sample) => sample.pairs),
    featureSize: featureRowsCols(featureSize),
  };
}

/**
 * The paired features, each [N, P, C]: A's cells picked from featuresA ([N, C, rows, cols])
 * and B's bilinear samples of featuresB ([N, C, h, w], any size; border padding).
 * Padding slots hold cell 0 and B's centre: mask them with batch.valid.
 */
export function gatherPairFeatures(
  featuresA: Tensor,
  featuresB: Tensor,
  batch: Pick<PairBatch, "indicesA" | "gridB" | "featureSize">,
): { a: Tensor; b: Tensor } {
  const [count, channels, rows, cols] = featuresA.shape;
  const pairCount = batch.indicesA.size(1);
  if (rows !== batch.featureSize[0] || cols !== batch.featureSize[1] || count !== batch.indicesA.size(0)) {
    throw new Error(
      `gatherPairFeatures: features A are [${featuresA.shape.join(", ")}] but the pairs were drawn for ` +
        `${batch.indicesA.size(0)} maps of ${batch.featureSize[0]}x${batch.featureSize[1]}`,
    );
  }
  using flat = featuresA.reshape(count, channels, rows * cols);
  using indices = batch.indicesA.to(featuresA.device);
  using unsqueezed = indices.unsqueeze(1);
  using expanded = unsqueezed.expand(count, channels, pairCount);
  using pickedA = flat.gather(2, expanded);
  using grid = batch.gridB.to(featuresB.device);
  using grid32 = grid.to(featuresB.dtype);
  using sampledB = F.gridSample(featuresB, grid32, {
    mode: "bilinear",
    paddingMode: "border",
    alignCorners: false,
  });
  using squeezedB = sampledB.squeeze(3);
  return { a: pickedA.transpose(1, 2), b: squeezedB.transpose(1, 2) };
}
