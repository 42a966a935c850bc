// A view's geometry as one affine map from the view's normalised output coordinates to
// the source image's, so that a view can be rendered with one grid-sample and any point
// of it traced back to the source exactly (VADeR's pixel correspondences need this).
//
// Coordinates follow grid_sample with align_corners = false: in an image of n pixels
// along an axis, -1 and 1 are the outer pixel edges and pixel i's centre is at
// ((i + 0.5) / n) * 2 - 1. A matrix [a, b, c, d, e, f] sends the view point (u, v) to
// the source point (a u + b v + c, d u + e v + f): it is F.affine_grid's theta.
import type { Random } from "../util/random.ts";
import { F, type Tensor, tensor } from "../torch/index.ts";
import { type CropBox, type CropBoxOptions, sampleCropBox } from "./crop.ts";

/** A 2x3 affine matrix, row-major: [a, b, c, d, e, f]. */
export type AffineMatrix = [number, number, number, number, number, number];

/** A point (x, y) in normalised coordinates. */
export type Point = [number, number];

export const identityMatrix: AffineMatrix = [1, 0, 0, 0, 1, 0];

/** The random affine applied to a view's content about its centre (torchvision's RandomAffine). */
export interface RandomAffineOptions {
  /** Rotation range in degrees; d means [-d, d]. Positive turns the content counter-clockwise. */
  degrees: number | [number, number];
  /** Horizontal shear range in degrees; s means [-s, s]. Default none. */
  shear?: number | [number, number];
  /** Zoom range of the content: above 1 enlarges it (less of the crop shows). Default [1, 1]. */
  scale?: [number, number];
}

export interface ViewGeometryOptions extends CropBoxOptions {
  /** A random rotation, shear and zoom of the crop about its centre; off when absent. */
  affine?: RandomAffineOptions;
}

/** The affine drawn for one view; all zero and 1 when the view has none. */
export interface ViewAffine {
  degrees: number;
  shear: number;
  scale: number;
}

export const noAffine: ViewAffine = { degrees: 0, shear: 0, scale: 1 };

export interface ViewGeometry {
  /** The source image's size in pixels. */
  sourceWidth: number;
  sourceHeight: number;
  /** The random resized crop in source pixels (and its flip). */
  box: CropBox;
  affine: ViewAffine;
  /** View normalised coordinates -> source normalised coordinates. */
  matrix: AffineMatrix;
}

/** p ∘ q: the map that applies q first, then p. */
export function composeAffine(p: AffineMatrix, q: AffineMatrix): AffineMatrix {
  const [a, b, c, d, e, f] = p;
  const [g, h, i, j, k, l] = q;
  return [a * g + b * j, a * h + b * k, a * i + b * l + c, d * g + e * j, d * h + e * k, d * i + e * l + f];
}

export function invertAffine(matrix: AffineMatrix): AffineMatrix {
  const [a, b, c, d, e, f] = matrix;
  const determinant = a * e - b * d;
  if (!Number.isFinite(determinant) || Math.abs(determinant) < 1e-12) {
    throw new Error(`invertAffine: the matrix [${matrix.join(", ")}] is singular`);
  }
  const [ia, ib, id, ie] = [e / determinant, -b / determinant, -d / determinant, a / determinant];
  return [ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)];
}

export function applyAffine(matrix: AffineMatrix, [x, y]: Point): Point {
  const [a, b, c, d, e, f] = matrix;
  return [a * x + b * y + c, d * x + e * y + f];
}

/** Whether a normalised point lies in the image (edges included). */
export function insideImage([x, y]: Point): boolean {
  return Math.abs(x) <= 1 && Math.abs(y) <= 1;
}

/** A normalised coordinate in pixels from the image's leading edge (pixel i spans [i, i + 1]). */
export function normalizedToPixels(value: number, extent: number): number {
  return ((value + 1) / 2) * extent;
}

export function pixelsToNormalized(value: number, extent: number): number {
  return (value / extent) * 2 - 1;
}

/** Where a view point (normalised) comes from in the source (normalised). */
export function viewToSource(geometry: ViewGeometry, point: Point): Point {
  return applyAffine(geometry.matrix, point);
}

/** Where a source point (normalised) appears in the view (normalised; outside [-1, 1] if not shown). */
export function sourceToView(geometry: ViewGeometry, point: Point): Point {
  return applyAffine(invertAffine(geometry.matrix), point);
}

/** The crop box as a map from the (unflipped) crop's normalised coordinates to the source's. */
function cropMatrix(box: CropBox, width: number, height: number): AffineMatrix {
  const centerX = pixelsToNormalized(box.left + box.width / 2, width);
  const centerY = pixelsToNormalized(box.top + box.height / 2, height);
  return [box.width / width, 0, centerX, 0, box.height / height, centerY];
}

/**
 * The content transform of an affine, in the crop's normalised coordinates (y down):
 * zoom · rotation · x-shear, so a content point c is shown at zoom · R · S · c.
 */
function contentMatrix(affine: ViewAffine): AffineMatrix {
  const angle = (affine.degrees * Math.PI) / 180;
  const [cos, sin] = [Math.cos(angle), Math.sin(angle)];
  const rotation: AffineMatrix = [cos, sin, 0, -sin, cos, 0];
  const shear: AffineMatrix = [1, Math.tan((affine.shear * Math.PI) / 180), 0, 0, 1, 0];
  const zoom: AffineMatrix = [affine.scale, 0, 0, 0, affine.scale, 0];
  return composeAffine(zoom, composeAffine(rotation, shear));
}

/**
 * The geometry of a view of a width x height source: crop `box`, mirrored if box.flipped,
 * then `affine` about the crop's centre (in that order, as RandomResizedCrop,
 * RandomHorizontalFlip, RandomAffine). The matrix samples in the reverse order.
 */
export function viewGeometry(
  sourceWidth: number,
  sourceHeight: number,
  box: CropBox,
  affine: ViewAffine = noAffine,
): ViewGeometry {
  if (!(affine.scale > 0)) throw new Error(`viewGeometry: affine scale ${affine.scale} must be positive`);
  const flip: AffineMatrix = box.flipped ? [-1, 0, 0, 0, 1, 0] : identityMatrix;
  const sampling = invertAffine(contentMatrix(affine));
  const matrix = composeAffine(cropMatrix(box, sourceWidth, sourceHeight), composeAffine(flip, sampling));
  return { sourceWidth, sourceHeight, box, affine: { ...affine }, matrix };
}

function symmetricRange(range: number | [number, number], name: string): [number, number] {
  const [low, high] = typeof range === "number" ? [-Math.abs(range), Math.abs(range)] : range;
  if (!(low <= high)) throw new Error(`sampleViewGeometry: ${name} range [${low}, ${high}] is empty`);
  return [low, high];
}

/**
 * A random view of a width x height source: sampleCropBox's random resized crop and flip,
 * then, if options.affine is given, a rotation, shear and zoom drawn uniformly from its
 * ranges (in that order from `random`).
 */
export function sampleViewGeometry(
  sourceWidth: number,
  sourceHeight: number,
  options: ViewGeometryOptions,
  random: Random,
): ViewGeometry {
  const [minScale, maxScale] = options.scale;
  if (!(minScale > 0 && minScale <= maxScale && maxScale <= 1)) {
    throw new Error(`sampleViewGeometry: crop scale [${minScale}, ${maxScale}] must lie in (0, 1]`);
  }
  const box = sampleCropBox(sourceWidth, sourceHeight, options, random);
  if (!options.affine) return viewGeometry(sourceWidth, sourceHeight, box);
  const degrees = symmetricRange(options.affine.degrees, "rotation");
  const shear = symmetricRange(options.affine.shear ?? 0, "shear");
  const [minZoom, maxZoom] = options.affine.scale ?? [1, 1];
  if (!(minZoom > 0 && minZoom <= maxZoom)) {
    throw new Error(`sampleViewGeometry: affine scale [${minZoom}, ${maxZoom}] must be positive and ordered`);
  }
  if (!(Math.abs(shear[0]) < 90 && Math.abs(shear[1]) < 90)) {
    throw new Error(`sampleViewGeometry: shear [${shear[0]}, ${shear[1]}] must lie within (-90, 90) degrees`);
  }
  return viewGeometry(sourceWidth, sourceHeight, box, {
    degrees: random.uniform(degrees[0], degrees[1]),
    shear: random.uniform(shear[0], shear[1]),
    scale: random.uniform(minZoom, maxZoom),
  });
}

export interface RenderedViews {
  /** [N, C, size, size]. */
  views: Tensor;
  /** [N, 1, size, size] bool: whether the pixel's centre comes from inside its source image. */
  valid: Tensor;
}

/**
 * Renders geometries[i] of images[i] ([N, C, H, W]) at size x size with one affine grid
 * and one bilinear grid-sample. Pixels whose centre maps outside the source (possible
 * with an affine) are marked invalid; they hold the border pixel ("border", default,
 * which also keeps crop edges identical to cropAndResize) or zero ("zeros").
 */
export function renderViews(
  images: Tensor,
  geometries: readonly ViewGeometry[],
  size: number,
  options: { paddingMode?: "border" | "zeros" } = {},
): RenderedViews {
  const [count, channels, height, width] = images.shape;
  if (geometries.length !== count) {
    throw new Error(`renderViews: ${geometries.length} geometries for ${count} images`);
  }
  geometries.forEach((geometry, i) => {
    if (geometry.sourceWidth !== width || geometry.sourceHeight !== height) {
      throw new Error(
        `renderViews: geometry ${i} was drawn for a ${geometry.sourceWidth}x${geometry.sourceHeight} ` +
          `source, but image ${i} is ${width}x${height}`,
      );
    }
  });
  if (!Number.isInteger(size) || size < 1)
    throw new Error(`renderViews: size ${size} must be a positive integer`);
  using host = tensor(
    geometries.flatMap((geometry) => geometry.matrix),
    { shape: [count, 2, 3] },
  );
  using matrices = host.to(images.device);
  using grid = F.affineGrid(matrices, [count, channels, size, size], false);
  const views = F.gridSample(images, grid, {
    mode: "bilinear",
    paddingMode: options.paddingMode ?? "border",
    alignCorners: false,
  });
  using magnitude = grid.abs();
  using farthest = magnitude.amax(-1);
  using inside = farthest.le(1);
  return { views, valid: inside.unsqueeze(1) };
}
