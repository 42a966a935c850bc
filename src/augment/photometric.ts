// Photometric augmentations of a [N, 3, H, W] batch in [0, 1], each sample with its own
// random parameters, as batched tensor operations that run on any device.
import type { Random } from "../util/random.ts";
import { callTensor, F, type Tensor, tensor, where } from "../torch/index.ts";

function perSample(values: number[], like: Tensor, shape: number[] = [values.length, 1, 1, 1]): Tensor {
  return tensor(values, { shape, device: like.device });
}

/** ITU-R 601 luma weights of R, G and B. */
const lumaWeights = [0.299, 0.587, 0.114];

/** Each sample's pixels times its own 3x3 colour matrix ([N, 3, 3], row-major, flat): one batched product. */
function transformColors(images: Tensor, matrices: number[]): Tensor {
  const [count, channels, height, width] = images.shape;
  using m = perSample(matrices, images, [count, 3, 3]);
  using flat = images.reshape(count, channels, height * width);
  using mixed = m.matmul(flat);
  return mixed.view(count, channels, height, width);
}

/** The 3x3 matrix that blends a pixel with its luma: factor 1 keeps it, 0 makes it gray. */
function saturationMatrix(factor: number): number[] {
  return Array.from({ length: 9 }, (_, k) => {
    const [row, col] = [Math.floor(k / 3), k % 3];
    return (1 - factor) * lumaWeights[col] + (row === col ? factor : 0);
  });
}

export interface ColorJitterOptions {
  probability: number;
  brightness: number;
  contrast: number;
  saturation: number;
  hue: number;
}

/** Per-sample factors of the colour jitter: 1 (hue 0) leaves a sample as it is. */
export interface JitterFactors {
  brightness: number[];
  contrast: number[];
  saturation: number[];
  hue: number[];
}

/** Brightness, contrast, saturation and hue, each factor drawn per sample (torchvision's ranges). */
export function colorJitter(images: Tensor, options: ColorJitterOptions, random: Random): Tensor {
  const count = images.size(0);
  const draw = (spread: number, identity: number, applied: boolean[]) =>
    applied.map((on) => (on ? random.uniform(identity - spread, identity + spread) : identity));
  const applied = Array.from({ length: count }, () => random.chance(options.probability));
  return adjustColors(images, {
    brightness: draw(options.brightness, 1, applied),
    contrast: draw(options.contrast, 1, applied),
    saturation: draw(options.saturation, 1, applied),
    hue: draw(options.hue, 0, applied),
  });
}

/**
 * Brightness, contrast, saturation, then hue, each clamped to [0, 1] as torchvision does,
 * in few passes over the pixels: contrast's mean luma from the channel means, saturation
 * and hue as per-sample colour matrices.
 */
export function adjustColors(images: Tensor, factors: JitterFactors): Tensor {
  const count = images.size(0);
  using brightnessFactor = perSample(factors.brightness, images);
  using bright = images.mul(brightnessFactor).clamp_(0, 1);
  // Contrast blends with the mean luma: c * x + (1 - c) * mean.
  using channelMeans = bright.mean([2, 3]);
  using weights = perSample(lumaWeights, images, [3, 1]);
  using meanLuma = channelMeans.matmul(weights).view(count, 1, 1, 1);
  using contrastFactor = perSample(factors.contrast, images);
  using retained = contrastFactor.rsub(1);
  using offset = meanLuma.mul(retained);
  using contrasted = offset.addcmul(bright, contrastFactor).clamp_(0, 1);
  using saturated = transformColors(contrasted, factors.saturation.flatMap(saturationMatrix)).clamp_(0, 1);
  // Hue: rotate the chroma plane of YIQ by 2*pi*hue.
  const fromYiq = invert3(toYiq);
  const hueMatrices = factors.hue.flatMap((shift) => {
    const [c, s] = [Math.cos(2 * Math.PI * shift), Math.sin(2 * Math.PI * shift)];
    const rotation = [1, 0, 0, 0, c, -s, 0, s, c];
    return multiply3(fromYiq, multiply3(rotation, toYiq));
  });
  return transformColors(saturated, hueMatrices).clamp_(0, 1);
}

const toYiq = [0.299, 0.587, 0.114, 0.596, -0.274, -0.322, 0.211, -0.523, 0.312];

function invert3(m: number[]): number[] {
  const [a, b, c, d, e, f, g, h, i] = m;
  const cofactors = [
    e * i - f * h,
    c * h - b * i,
    b * f - c * e,
    f * g - d * i,
    a * i - c * g,
    c * d - a * f,
    d * h - e * g,
    b * g - a * h,
    a * e - b * d,
  ];
  const determinant = a * cofactors[0] + b * cofactors[3] + c * cofactors[6];
  return cofactors.map((value) => value / determinant);
}

function multiply3(a: number[], b: number[]): number[] {
  return Array.from({ length: 9 }, (_, k) => {
    const [row, col] = [Math.floor(k / 3), k % 3];
    return a[row * 3] * b[col] + a[row * 3 + 1] * b[3 + col] + a[row * 3 + 2] * b[6 + col];
  });
}

/** Replaces each sample by its luma (on all three channels) with the given probability. */
export function randomGrayscale(images: Tensor, probability: number, random: Random): Tensor {
  const chosen = Array.from({ length: images.size(0) }, () => random.chance(probability));
  if (!chosen.some(Boolean)) return callTensor("aten::alias", images);
  return transformColors(
    images,
    chosen.flatMap((gray) => saturationMatrix(gray ? 0 : 1)),
  );
}

/** Gaussian blur with sigma drawn per sample from sigmaRange, applied with the given probability. */
export function randomGaussianBlur(
  images: Tensor,
  probability: number,
  sigmaRange: [number, number],
  random: Random,
): Tensor {
  const [count, channels, height, width] = images.shape;
  const sigmas = Array.from({ length: count }, () =>
    random.chance(probability) ? random.uniform(sigmaRange[0], sigmaRange[1]) : 0,
  );
  if (sigmas.every((sigma) => sigma === 0)) return callTensor("aten::alias", images);
  const radius = Math.min(Math.ceil(3 * Math.max(...sigmas)), Math.floor((Math.min(height, width) - 1) / 2));
  const taps = sigmas.flatMap((sigma) => {
    const weights = Array.from({ length: 2 * radius + 1 }, (_, i) =>
      sigma === 0 ? Number(i === radius) : Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)),
    );
    const total = weights.reduce((a, b) => a + b);
    const kernel = weights.map((w) => w / total);
    return Array.from({ length: channels }, () => kernel).flat();
  });
  // One depthwise convolution per direction over all samples and channels at once.
  using horizontal = perSample(taps, images, [count * channels, 1, 1, 2 * radius + 1]);
  using vertical = horizontal.view(count * channels, 1, 2 * radius + 1, 1);
  using stacked = images.reshape(1, count * channels, height, width);
  using paddedX = F.pad(stacked, [radius, radius, 0, 0], "reflect");
  using blurredX = F.conv2d(paddedX, horizontal, null, { groups: count * channels });
  using paddedY = F.pad(blurredX, [0, 0, radius, radius], "reflect");
  using blurred = F.conv2d(paddedY, vertical, null, { groups: count * channels });
  return blurred.reshape(count, channels, height, width);
}

/** Inverts pixels at or above 0.5, per sample with the given probability. */
export function randomSolarize(images: Tensor, probability: number, random: Random): Tensor {
  const chosen = Array.from({ length: images.size(0) }, () => random.chance(probability));
  if (!chosen.some(Boolean)) return callTensor("aten::alias", images);
  // A sample left alone gets a threshold no pixel reaches.
  using thresholds = perSample(
    chosen.map((on) => (on ? 0.5 : Number.POSITIVE_INFINITY)),
    images,
  );
  using bright = images.ge(thresholds);
  using inverted = images.rsub(1);
  return where(bright, inverted, images);
}

export const imagenetMean: [number, number, number] = [0.485, 0.456, 0.406];
export const imagenetStd: [number, number, number] = [0.229, 0.224, 0.225];

/** (x - mean) / std per channel, as x * (1 / std) - mean / std in one pass. */
export function normalizeImages(images: Tensor, mean = imagenetMean, std = imagenetStd): Tensor {
  using scale = perSample(
    std.map((s) => 1 / s),
    images,
    [1, 3, 1, 1],
  );
  using shift = perSample(
    mean.map((m, c) => -m / std[c]),
    images,
    [1, 3, 1, 1],
  );
  return shift.addcmul(images, scale);
}
