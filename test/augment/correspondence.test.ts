// View geometry and VADeR's pixel correspondences: exact round trips, rendered pixels
// that agree with the pairs, no pair outside the overlap, and the sampler's counting rules.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type CellPair,
  cellCenter,
  gatherPairFeatures,
  matchableCells,
  samplePairBatch,
  samplePairs,
} from "../../src/augment/correspondence.ts";
import { type CropBox, cropAndResize } from "../../src/augment/crop.ts";
import {
  applyAffine,
  invertAffine,
  normalizedToPixels,
  type Point,
  renderViews,
  sampleViewGeometry,
  type ViewGeometry,
  type ViewGeometryOptions,
  viewGeometry,
  viewToSource,
} from "../../src/augment/view_geometry.ts";
import { Random } from "../../src/util/random.ts";
import { F, rand, type Tensor, tensor } from "../../src/torch/index.ts";
import { maxAbsDiff } from "../helpers/python.ts";

const [width, height] = [96, 80];
const viewSize = 64;
const featureSize = 16;

const withAffine: ViewGeometryOptions = {
  scale: [0.2, 1],
  flipProbability: 0.5,
  affine: { degrees: 30, shear: 10, scale: [0.8, 1.25] },
};
const cropOnly: ViewGeometryOptions = { scale: [0.2, 1], flipProbability: 0.5 };

/** Source pixels whose values are their own coordinates: channel 0 = x, 1 = y (pixel centres). */
function coordinateRamp(count: number, shiftX = 0, extra = 0): Tensor {
  const values = new Float32Array(count * 3 * height * width);
  for (let n = 0; n < count; n++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const at = (n * 3 * height + y) * width + x;
        values[at] = x + 0.5 + shiftX;
        values[at + height * width] = y + 0.5;
        values[at + 2 * height * width] = extra * Math.sin(x * 7 + y * 3 + n);
      }
    }
  }
  return tensor(values, { shape: [count, 3, height, width] });
}

function toSourcePixels([x, y]: Point): Point {
  return [normalizedToPixels(x, width), normalizedToPixels(y, height)];
}

test("a crop-only geometry renders exactly as cropAndResize, its corners on the box's corners", () => {
  const random = new Random(11);
  const images = rand([6, 3, height, width]);
  const geometries = Array.from({ length: 6 }, () => sampleViewGeometry(width, height, cropOnly, random));
  const { views, valid } = renderViews(images, geometries, 24);
  const expected = cropAndResize(
    images,
    geometries.map((geometry) => geometry.box),
    24,
  );
  assert.ok(maxAbsDiff(views, expected) < 1e-5);
  assert.ok(valid.all().item() === 1, "a crop never leaves its source");
  assert.ok(geometries.some((geometry) => geometry.box.flipped) && geometries.some((g) => !g.box.flipped));
  for (const { box, matrix } of geometries) {
    const [left, right] = box.flipped ? [box.left + box.width, box.left] : [box.left, box.left + box.width];
    const [x0, y0] = toSourcePixels(applyAffine(matrix, [-1, -1]));
    const [x1, y1] = toSourcePixels(applyAffine(matrix, [1, 1]));
    assert.ok(
      Math.abs(x0 - left) < 1e-9 && Math.abs(x1 - right) < 1e-9,
      `x ${x0}, ${x1} vs ${left}, ${right}`,
    );
    assert.ok(Math.abs(y0 - box.top) < 1e-9 && Math.abs(y1 - box.top - box.height) < 1e-9);
  }
});

test("round trip: view A -> source -> view B -> source lands on the same point (crops, flips, affines)", () => {
  let worst = 0;
  for (let seed = 0; seed < 300; seed++) {
    const random = new Random(seed);
    const options = seed % 2 === 0 ? withAffine : cropOnly;
    const a = sampleViewGeometry(width, height, options, random);
    const b = sampleViewGeometry(width, height, options, random);
    const toB = invertAffine(b.matrix);
    // The affine turns the crop about its centre: the view's centre stays on the box's centre.
    const [cx, cy] = toSourcePixels(viewToSource(a, [0, 0]));
    assert.ok(
      Math.abs(cx - a.box.left - a.box.width / 2) < 1e-9 &&
        Math.abs(cy - a.box.top - a.box.height / 2) < 1e-9,
    );
    for (let i = 0; i < 40; i++) {
      const point: Point = [random.uniform(-1, 1), random.uniform(-1, 1)];
      const source = applyAffine(a.matrix, point);
      const back = applyAffine(b.matrix, applyAffine(toB, source));
      const [sx, sy] = toSourcePixels(source);
      const [bx, by] = toSourcePixels(back);
      worst = Math.max(worst, Math.abs(sx - bx), Math.abs(sy - by));
    }
  }
  assert.ok(worst < 1e-4, `round trip off by ${worst} source pixels`);
});

test("a positive rotation turns the content counter-clockwise; pixels from outside the source are invalid", () => {
  const box: CropBox = { left: 8, top: 0, width: 80, height: 80, flipped: false };
  const turned = viewGeometry(width, height, box, { degrees: 90, shear: 0, scale: 1 });
  // The source point right of the crop's centre shows above the view's centre.
  const [u, v] = applyAffine(invertAffine(turned.matrix), [(2 * (48 + 20)) / width - 1, 0]);
  assert.ok(Math.abs(u) < 1e-9 && v < -0.4, `(${u}, ${v})`);
  const zoomedOut = viewGeometry(
    width,
    height,
    { left: 0, top: 0, width, height, flipped: false },
    {
      degrees: 0,
      shear: 0,
      scale: 0.5,
    },
  );
  const { views, valid } = renderViews(coordinateRamp(2), [turned, zoomedOut], 16, { paddingMode: "zeros" });
  const column = views.select(0, 0).select(0, 0).select(1, 8).toArray();
  assert.ok(column[0] > column[15] + 40, "source x grows towards the top of a view turned by 90 degrees");
  const mask = valid.toArray();
  for (let n = 0; n < 2; n++) {
    const geometry = [turned, zoomedOut][n];
    for (let row = 0; row < 16; row++) {
      for (let col = 0; col < 16; col++) {
        const [x, y] = viewToSource(geometry, [cellCenter(col, 16), cellCenter(row, 16)]);
        assert.equal(mask[(n * 16 + row) * 16 + col], Number(Math.abs(x) <= 1 && Math.abs(y) <= 1));
      }
    }
  }
  assert.equal(
    mask.slice(256).reduce((sum, value) => sum + value),
    64,
    "zoomed out by 2: the middle 8x8 is valid",
  );
  const zeros = views.select(0, 1).select(0, 0).toArray();
  assert.equal(zeros[0], 0, "zero padding outside the source");
});

/** The largest source-pixel step from a view pixel to its neighbour (the reach of a bilinear sample). */
function pixelReach(geometry: ViewGeometry, size: number): number {
  const [a, b, , d, e] = geometry.matrix;
  return ((Math.abs(a) + Math.abs(b)) * width + (Math.abs(d) + Math.abs(e)) * height) / size;
}

/** Whether every pixel a bilinear sample of the view near `source` reads is a ramp-exact source pixel. */
function sampledInsideRamp(geometry: ViewGeometry, source: Point, size: number): boolean {
  const [x, y] = toSourcePixels(source);
  const reach = pixelReach(geometry, size);
  return x - reach >= 0.5 && x + reach <= width - 0.5 && y - reach >= 0.5 && y + reach <= height - 0.5;
}

/**
 * Renders views A of imagesA and B of imagesB, takes A's features as its pixels at the
 * feature cells' centres and B's as the full view, and returns, per checked pair, the
 * largest difference between A's and B's values and between A's and the pair's source point.
 */
function renderedPairs(
  imagesA: Tensor,
  imagesB: Tensor,
  seed: number,
): { mismatch: number; offSource: number; checked: number; total: number } {
  const random = new Random(seed);
  const count = imagesA.size(0);
  const geometriesA = Array.from({ length: count }, () =>
    sampleViewGeometry(width, height, withAffine, random),
  );
  const geometriesB = Array.from({ length: count }, () =>
    sampleViewGeometry(width, height, withAffine, random),
  );
  const viewsA = renderViews(imagesA, geometriesA, viewSize).views;
  const viewsB = renderViews(imagesB, geometriesB, viewSize).views;
  const identity = tensor(Array.from({ length: count }, () => [1, 0, 0, 0, 1, 0]).flat(), {
    shape: [count, 2, 3],
  });
  const centres = F.affineGrid(identity, [count, 3, featureSize, featureSize], false);
  const featuresA = F.gridSample(viewsA, centres, { paddingMode: "border", alignCorners: false });
  const batch = samplePairBatch(geometriesA, geometriesB, featureSize, random, { count: 32 });
  const { a, b } = gatherPairFeatures(featuresA, viewsB, batch);
  const [valuesA, valuesB] = [a.toArray(), b.toArray()];
  let [mismatch, offSource, checked, total] = [0, 0, 0, 0];
  batch.pairs.forEach((pairs, image) => {
    pairs.forEach((pair, slot) => {
      total++;
      const [u, v] = pair.pointB.map((value) => normalizedToPixels(value, viewSize));
      const insideB = u >= 0.5 && u <= viewSize - 0.5 && v >= 0.5 && v <= viewSize - 0.5;
      if (
        !insideB ||
        !sampledInsideRamp(geometriesA[image], pair.source, viewSize) ||
        !sampledInsideRamp(geometriesB[image], pair.source, viewSize)
      ) {
        return;
      }
      checked++;
      const at = (image * 32 + slot) * 3;
      const [sx, sy] = toSourcePixels(pair.source);
      mismatch = Math.max(
        mismatch,
        Math.abs(valuesA[at] - valuesB[at]),
        Math.abs(valuesA[at + 1] - valuesB[at + 1]),
      );
      offSource = Math.max(offSource, Math.abs(valuesA[at] - sx), Math.abs(valuesA[at + 1] - sy));
    });
  });
  return { mismatch, offSource, checked, total };
}

test("rendered views agree with the pairs: B sampled at the pair's point equals A at the cell's centre", () => {
  let checked = 0;
  let total = 0;
  for (const seed of [1, 2, 3]) {
    const images = coordinateRamp(8, 0, 0.5);
    const result = renderedPairs(images, images, seed);
    assert.ok(result.mismatch < 2e-3, `A and B differ by ${result.mismatch} source pixels (seed ${seed})`);
    assert.ok(
      result.offSource < 2e-3,
      `A's pixel is ${result.offSource} pixels from the pair's source point`,
    );
    checked += result.checked;
    total += result.total;
  }
  assert.ok(total > 500 && checked > 0.8 * total, `only ${checked} of ${total} pairs were checkable`);
});

test("frames t and t + d as the two views pair points by source coordinates (a static scene)", () => {
  const frameT = coordinateRamp(8, 0, 0);
  const stillFrame = coordinateRamp(8, 0, 1); // same scene, other pixels elsewhere (channel 2)
  const still = renderedPairs(frameT, stillFrame, 4);
  assert.ok(still.checked > 50 && still.mismatch < 2e-3, `static scene: off by ${still.mismatch}`);
  const panned = renderedPairs(frameT, coordinateRamp(8, 6, 0), 4);
  assert.ok(Math.abs(panned.mismatch - 6) < 1e-2, "a camera that moved 6 px breaks the pairs by 6 px");
});

const boxA: CropBox = { left: 0, top: 0, width: 60, height: 80, flipped: false };
const boxB: CropBox = { left: 40, top: 0, width: 56, height: 80, flipped: true };

test("no pair falls outside the overlap", () => {
  const random = new Random(5);
  const disjoint = viewGeometry(width, height, { left: 60, top: 10, width: 36, height: 40, flipped: false });
  for (const shortfall of ["repeat", "truncate"] as const) {
    const { pairs, matchable } = samplePairs(viewGeometry(width, height, boxA), disjoint, 16, random, {
      shortfall,
    });
    assert.equal(matchable, 0);
    assert.equal(pairs.length, 0);
  }
  const a = viewGeometry(width, height, boxA);
  const b = viewGeometry(width, height, boxB);
  // Independently, in pixels: cell col's centre is at x = (col + 0.5) * 60 / 16; B covers x in [40, 96].
  const expected = new Set<number>();
  for (let row = 0; row < 16; row++) {
    for (let col = 0; col < 16; col++) if (((col + 0.5) * 60) / 16 >= 40) expected.add(row * 16 + col);
  }
  assert.equal(expected.size, 80);
  assert.deepEqual(new Set(matchableCells(a, b, 16).map((pair) => pair.index)), expected);
  // With affines on both views: every pair's point lies in B's view and its source in both.
  const turnedA = viewGeometry(width, height, boxA, { degrees: 25, shear: 5, scale: 0.7 });
  const turnedB = viewGeometry(width, height, boxB, { degrees: -40, shear: 0, scale: 1.1 });
  for (const [viewA, viewB] of [
    [a, b],
    [turnedA, turnedB],
  ]) {
    const { pairs, matchable } = samplePairs(viewA, viewB, 16, random, { count: 64 });
    assert.ok(matchable > 20 && pairs.length === 64);
    for (const pair of pairs) {
      assert.ok(Math.abs(pair.pointB[0]) <= 1 && Math.abs(pair.pointB[1]) <= 1);
      assert.ok(Math.abs(pair.source[0]) <= 1 && Math.abs(pair.source[1]) <= 1, "inside the source");
      const fromA = viewToSource(viewA, [cellCenter(pair.col, 16), cellCenter(pair.row, 16)]);
      const fromB = viewToSource(viewB, pair.pointB);
      assert.ok(Math.hypot(fromA[0] - fromB[0], fromA[1] - fromB[1]) < 1e-12, "both show the same point");
      if (viewA === a) {
        const [x] = toSourcePixels(pair.source);
        assert.ok(x >= 40 && x <= 60, `source x ${x} outside both crops`);
      }
    }
  }
  const batch = samplePairBatch([a, a], [disjoint, b], 16, random, { count: 8 });
  assert.deepEqual(batch.valid.toArray(), [...Array(8).fill(0), ...Array(8).fill(1)]);
  assert.deepEqual(batch.matchable, [0, 80]);
});

test("the sampler: unique uniform draws, every cell when short (repeat), fewer when truncating", () => {
  const a = viewGeometry(width, height, boxA);
  const b = viewGeometry(width, height, boxB);
  const matchable = new Set(matchableCells(a, b, 16).map((pair) => pair.index));
  const random = new Random(6);
  const indices = (pairs: CellPair[]) => pairs.map((pair) => pair.index);

  const enough = indices(samplePairs(a, b, 16, random).pairs);
  assert.equal(enough.length, 32, "default: 32 pairs");
  assert.equal(new Set(enough).size, 32, "without replacement");
  assert.ok(enough.every((index) => matchable.has(index)));

  const repeated = indices(samplePairs(a, b, 16, random, { count: 100 }).pairs);
  assert.equal(repeated.length, 100);
  assert.deepEqual(new Set(repeated.slice(0, 80)), matchable, "every matchable cell once, first");
  assert.ok(repeated.slice(80).every((index) => matchable.has(index)));
  const truncated = indices(samplePairs(a, b, 16, random, { count: 100, shortfall: "truncate" }).pairs);
  assert.equal(truncated.length, 80);
  assert.deepEqual(new Set(truncated), matchable);

  // Uniform: each of the 80 cells is drawn 32/80 of the time.
  const draws = 3000;
  const tally = new Map<number, number>();
  for (let i = 0; i < draws; i++) {
    for (const index of indices(samplePairs(a, b, 16, random).pairs))
      tally.set(index, (tally.get(index) ?? 0) + 1);
  }
  const expected = (draws * 32) / 80;
  for (const index of matchable) {
    const seen = tally.get(index) ?? 0;
    assert.ok(
      Math.abs(seen - expected) < 0.12 * expected,
      `cell ${index} drawn ${seen} times, not ~${expected}`,
    );
  }

  // The batch is samplePairs image by image, padded; the gathered A features are the cells.
  const geometries = [a, b, a];
  const batch = samplePairBatch(geometries, [b, a, a], 16, new Random(7), {
    count: 100,
    shortfall: "truncate",
  });
  const again = new Random(7);
  const one = geometries.map((geometry, i) =>
    samplePairs(geometry, [b, a, a][i], 16, again, {
      count: 100,
      shortfall: "truncate",
    }),
  );
  assert.deepEqual(
    batch.pairs,
    one.map((sample) => sample.pairs),
  );
  assert.deepEqual(batch.indicesA.shape, [3, 100]);
  assert.deepEqual(batch.gridB.shape, [3, 100, 1, 2]);
  assert.equal(batch.indicesA.dtype, "int64");
  const valid = batch.valid.toArray();
  batch.pairs.forEach((pairs, image) =>
    assert.deepEqual(valid.slice(image * 100, image * 100 + 100), [
      ...Array(pairs.length).fill(1),
      ...Array(100 - pairs.length).fill(0),
    ]),
  );
  const cellIds = tensor(
    Array.from({ length: 3 * 256 }, (_, i) => i % 256),
    { shape: [3, 1, 16, 16] },
  );
  const { a: picked } = gatherPairFeatures(cellIds, rand([3, 1, 5, 7]), batch);
  assert.deepEqual(picked.reshape(3, 100).toArray(), batch.indicesA.toArray());
  assert.throws(() => gatherPairFeatures(rand([3, 1, 8, 8]), rand([3, 1, 8, 8]), batch), /16x16/);
});
