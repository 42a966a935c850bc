// Random resized crops (with optional horizontal flip) of a whole batch in one
// grid-sample: each sample's box becomes an affine map from output to input coordinates.
import type { Random } from "../util/random.ts";
import { F, type Tensor, tensor } from "../torch/index.ts";

export interface CropOptions {
  /** Output side length in pixels. */
  size: number;
  /** Range of the crop's area as a fraction of the image's. */
  scale: [number, number];
  /** Range of the crop's aspect ratio (width / height). */
  ratio?: [number, number];
  flipProbability?: number;
}

/** What box sampling reads of CropOptions (the output size plays no part in it). */
export type CropBoxOptions = Pick<CropOptions, "scale" | "ratio" | "flipProbability">;

/** A crop in input pixels: left, top, width, height, and whether it is mirrored. */
export interface CropBox {
  left: number;
  top: number;
  width: number;
  height: number;
  flipped: boolean;
}

/** torchvision's RandomResizedCrop box: ten tries at area and ratio, then a centre crop. */
export function sampleCropBox(
  width: number,
  height: number,
  options: CropBoxOptions | CropOptions,
  random: Random,
): CropBox {
  const [minRatio, maxRatio] = options.ratio ?? [3 / 4, 4 / 3];
  const flipped = random.chance(options.flipProbability ?? 0.5);
  const area = width * height;
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * random.uniform(options.scale[0], options.scale[1]);
    const aspect = Math.exp(random.uniform(Math.log(minRatio), Math.log(maxRatio)));
    const w = Math.round(Math.sqrt(target * aspect));
    const h = Math.round(Math.sqrt(target / aspect));
    if (w > 0 && h > 0 && w <= width && h <= height) {
      return {
        left: random.integer(0, width - w),
        top: random.integer(0, height - h),
        width: w,
        height: h,
        flipped,
      };
    }
  }
  const aspect = width / height;
  const [w, h] =
    aspect < minRatio
      ? [width, Math.round(width / minRatio)]
      : aspect > maxRatio
        ? [Math.round(height * maxRatio), height]
        : [width, height];
  return {
    left: Math.floor((width - w) / 2),
    top: Math.floor((height - h) / 2),
    width: w,
    height: h,
    flipped,
  };
}

/**
 * Crops boxes[i] out of images[i] ([N, C, H, W]) and resizes it to size x size bilinearly.
 * Boxes are in input pixels; a flipped box is mirrored left to right.
 */
export function cropAndResize(images: Tensor, boxes: CropBox[], size: number): Tensor {
  const [count, channels, height, width] = images.shape;
  if (boxes.length !== count) throw new Error(`cropAndResize: ${boxes.length} boxes for ${count} images`);
  // Normalised coordinates (align_corners = false): -1 and 1 are the outer pixel edges.
  const theta = boxes.flatMap((box) => {
    const scaleX = (box.width / width) * (box.flipped ? -1 : 1);
    const scaleY = box.height / height;
    const centerX = ((box.left + box.width / 2) / width) * 2 - 1;
    const centerY = ((box.top + box.height / 2) / height) * 2 - 1;
    return [scaleX, 0, centerX, 0, scaleY, centerY];
  });
  using matrices = tensor(theta, { shape: [count, 2, 3], device: images.device });
  using grid = F.affineGrid(matrices, [count, channels, size, size], false);
  return F.gridSample(images, grid, { mode: "bilinear", paddingMode: "border", alignCorners: false });
}

/** Random resized crops of a batch; `groups[i]` makes samples with the same group share one box. */
export function randomResizedCrops(
  images: Tensor,
  options: CropOptions,
  random: Random,
  groups?: number[],
): { crops: Tensor; boxes: CropBox[] } {
  const [count, , height, width] = images.shape;
  const byGroup = new Map<number, CropBox>();
  const boxes = Array.from({ length: count }, (_, i) => {
    const group = groups?.[i];
    if (group === undefined) return sampleCropBox(width, height, options, random);
    let box = byGroup.get(group);
    if (!box) {
      box = sampleCropBox(width, height, options, random);
      byGroup.set(group, box);
    }
    return box;
  });
  return { crops: cropAndResize(images, boxes, options.size), boxes };
}

/**
 * A box cut out of one image [1, C, H, W] at whole pixels and resized to size x size, as
 * torchvision's RandomResizedCrop does it (bilinear, antialiased when it shrinks), mirrored
 * when the box is flipped.
 */
export function resizedCrop(image: Tensor, box: CropBox, size: number): Tensor {
  using cut = image.narrow(2, box.top, box.height).narrow(3, box.left, box.width);
  using resized = F.interpolate(cut, {
    size: [size, size],
    mode: "bilinear",
    alignCorners: false,
    antialias: true,
  });
  return box.flipped ? resized.flip(3) : resized.view(...resized.shape);
}
