// Photometric augmentations of a [N, 3, H, W] batch in [0, 1], each sample with its own
// random parameters, as batched tensor operations that run on any device.
import type { Random } from "../data/random.ts";
import { callTensor } from "../torch/dispatch.ts";
import { einsum, F, type Tensor, tensor, where } from "../torch/index.ts";

function perSample(values: number[], like: Tensor, shape: number[] = [values.length, 1, 1, 1]): Tensor {
  using host = tensor(values, { shape });
  return host.to(like.device);
}

/** ITU-R 601 luma, [N, 1, H, W]. */
export function luma(images: Tensor): Tensor {
  using weights = perSample([0.299, 0.587, 0.114], images, [1, 3, 1, 1]);
  using weighted = images.mul(weights);
  return weighted.sum(1, true);
}

export interface ColorJitterOptions {
  probability: number;
  brightness: number;
  contrast: number;
  saturation: number;
  hue: number;
}

/** Brightness, contrast, saturation and hue, each factor drawn per sample (torchvision's ranges). */
export function colorJitter(images: Tensor, options: ColorJitterOptions, random: Random): Tensor {
  const count = images.size(0);
  const draw = (spread: number, identity: number, applied: boolean[]) =>
    applied.map((on) => (on ? random.uniform(identity - spread, identity + spread) : identity));
  const applied = Array.from({ length: count }, () => random.chance(options.probability));
  const brightness = draw(options.brightness, 1, applied);
  const contrast = draw(options.contrast, 1, applied);
  const saturation = draw(options.saturation, 1, applied);
  const hue = draw(options.hue, 0, applied);

  using brightnessFactor = perSample(brightness, images);
  using bright = images.mul(brightnessFactor).clamp(0, 1);
  using brightLuma = luma(bright);
  using meanLuma = brightLuma.mean([1, 2, 3], true);
  using contrastFactor = perSample(contrast, images);
  using contrasted = bright.sub(meanLuma).mul(contrastFactor).add(meanLuma).clamp(0, 1);
  using gray = luma(contrasted);
  using saturationFactor = perSample(saturation, images);
  using saturated = contrasted.sub(gray).mul(saturationFactor).add(gray).clamp(0, 1);
  // Hue: rotate the chroma plane of YIQ by 2*pi*hue.
  const fromYiq = invert3(toYiq);
  const matrices = hue.flatMap((shift) => {
    const [c, s] = [Math.cos(2 * Math.PI * shift), Math.sin(2 * Math.PI * shift)];
    const rotation = [1, 0, 0, 0, c, -s, 0, s, c];
    return multiply3(fromYiq, multiply3(rotation, toYiq));
  });
  using hueMatrices = perSample(matrices, images, [count, 3, 3]);
  using rotated = einsum("nij,njhw->nihw", hueMatrices, saturated);
  return rotated.clamp(0, 1);
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
  const chosen = Array.from({ length: images.size(0) }, () => Number(random.chance(probability)));
  using mask = perSample(chosen, images).bool();
  using gray = luma(images);
  using grayRgb = gray.expandAs(images);
  return where(mask, grayRgb, images);
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
  const chosen = Array.from({ length: images.size(0) }, () => Number(random.chance(probability)));
  if (!chosen.some(Boolean)) return callTensor("aten::alias", images);
  using mask = perSample(chosen, images).bool();
  using bright = images.ge(0.5);
  using both = bright.logicalAnd(mask);
  using inverted = images.rsub(1);
  return where(both, inverted, images);
}

export const imagenetMean: [number, number, number] = [0.485, 0.456, 0.406];
export const imagenetStd: [number, number, number] = [0.229, 0.224, 0.225];

/** (x - mean) / std per channel. */
export function normalizeImages(images: Tensor, mean = imagenetMean, std = imagenetStd): Tensor {
  using meanTensor = perSample(mean, images, [1, 3, 1, 1]);
  using stdTensor = perSample(std, images, [1, 3, 1, 1]);
  using centered = images.sub(meanTensor);
  return centered.div(stdTensor);
}
