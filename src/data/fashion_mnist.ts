// Fashion-MNIST (Zalando's 28x28 grey clothing images in 10 classes), the labelled set the
// k-NN evaluation reads. Debian's dataset-fashion-mnist ships it as gzipped IDX files.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type Device, F, type Tensor, tensor } from "../torch/index.ts";
import { InputError } from "../errors.ts";
import { type IdxArray, readIdx } from "./idx.ts";
import { installAdvice } from "../util/system.ts";

export const fashionMnistDefaultRoot = "/usr/share/datasets/fashion-mnist";
export const fashionMnistSide = 28;

/** Label i is classNames[i]. */
export const fashionMnistClassNames: readonly string[] = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
];

export interface FashionMnist {
  /** count x 28 x 28 grey bytes, row-major. */
  images: Uint8Array;
  /** count labels in 0..9. */
  labels: Uint8Array;
  count: number;
  classNames: readonly string[];
}

/** Where the files are: the argument, else $ONEVIDEO_FASHION_MNIST, else Debian's place. */
export function fashionMnistRoot(root?: string): string {
  return root ?? process.env.ONEVIDEO_FASHION_MNIST ?? fashionMnistDefaultRoot;
}

// The original file names; Debian gzips them, a hand download may not be.
function findFile(root: string, name: string): string {
  for (const candidate of [`${name}.gz`, name]) {
    const path = join(root, candidate);
    if (existsSync(path)) return path;
  }
  throw new InputError(
    `Fashion-MNIST not found: no ${name}[.gz] in ${root}; ${installAdvice(["dataset-fashion-mnist"])} ` +
      `or set ONEVIDEO_FASHION_MNIST to a folder holding the IDX files`,
  );
}

function requireUint8(array: IdxArray, path: string, shape: number[]): void {
  const matches =
    array.type === "uint8" &&
    array.shape.length === shape.length &&
    array.shape.every((size, dim) => shape[dim] < 0 || size === shape[dim]);
  if (!matches) {
    const wanted = shape.map((size) => (size < 0 ? "N" : size)).join(", ");
    throw new InputError(
      `${path} holds ${array.type} [${array.shape.join(", ")}], expected uint8 [${wanted}]`,
    );
  }
}

export function loadFashionMnist(split: "train" | "test", root?: string): FashionMnist {
  const folder = fashionMnistRoot(root);
  const prefix = split === "train" ? "train" : "t10k";
  const imagePath = findFile(folder, `${prefix}-images-idx3-ubyte`);
  const labelPath = findFile(folder, `${prefix}-labels-idx1-ubyte`);
  const images = readIdx(imagePath);
  const labels = readIdx(labelPath);
  requireUint8(images, imagePath, [-1, fashionMnistSide, fashionMnistSide]);
  requireUint8(labels, labelPath, [-1]);
  const count = images.shape[0];
  if (labels.shape[0] !== count) {
    throw new InputError(
      `${labelPath} holds ${labels.shape[0]} labels for the ${count} images of ${imagePath}`,
    );
  }
  const labelData = labels.data as Uint8Array;
  const bad = labelData.findIndex((label) => label >= fashionMnistClassNames.length);
  if (bad >= 0)
    throw new InputError(`${labelPath}: label ${labelData[bad]} at ${bad} is not a class in 0..9`);
  return { images: images.data as Uint8Array, labels: labelData, count, classNames: fashionMnistClassNames };
}

/**
 * Samples start .. start+count-1 as a [count, 3, size, size] float batch in [0, 1] on the
 * device, for a ViT: grey replicated to the three channels, resized bilinearly.
 */
export function fashionMnistBatch(
  set: FashionMnist,
  start: number,
  count: number,
  size: number,
  device: Device = "cpu",
): Tensor {
  if (
    !Number.isInteger(start) ||
    !Number.isInteger(count) ||
    start < 0 ||
    count < 1 ||
    start + count > set.count
  ) {
    throw new InputError(
      `samples ${start} .. ${start + count - 1} are outside the set's 0 .. ${set.count - 1}`,
    );
  }
  if (!Number.isInteger(size) || size < 1)
    throw new InputError(`image size must be a positive integer, got ${size}`);
  const pixels = fashionMnistSide * fashionMnistSide;
  using raw = tensor(set.images.subarray(start * pixels, (start + count) * pixels), {
    shape: [count, 1, fashionMnistSide, fashionMnistSide],
  });
  using moved = raw.to(device);
  using floats = moved.float();
  using scaled = floats.div(255);
  // Resizing one channel and then copying it is cheaper than resizing three equal ones.
  using resized = F.interpolate(scaled, { size, mode: "bilinear", alignCorners: false });
  using channels = resized.expand(count, 3, size, size);
  return channels.contiguous();
}
