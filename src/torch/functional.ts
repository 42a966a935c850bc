// Neural-network functions (torch.nn.functional), PyTorch's names in camelCase.
import { hasOperator } from "./dispatch.ts";
import { callTensor, type Shape, type Tensor } from "./tensor.ts";

export type Reduction = "none" | "mean" | "sum";
const reductionCodes: Record<Reduction, number> = { none: 0, mean: 1, sum: 2 };

export function linear(input: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  return callTensor("aten::linear", input, weight, bias);
}

export interface Conv2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
  groups?: number;
}

export function conv2d(
  input: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  options: Conv2dOptions = {},
): Tensor {
  return callTensor(
    "aten::conv2d",
    input,
    weight,
    bias,
    options.stride ?? 1,
    options.padding ?? 0,
    options.dilation ?? 1,
    options.groups ?? 1,
  );
}

export function layerNorm(
  input: Tensor,
  normalizedShape: Shape,
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  eps = 1e-5,
): Tensor {
  return callTensor("aten::layer_norm", input, normalizedShape, weight, bias, eps, true);
}

export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  training?: boolean;
  momentum?: number;
  eps?: number;
}

/** Batch normalisation; in training mode the running statistics are updated in place. */
export function batchNorm(
  input: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  options: BatchNormOptions = {},
): Tensor {
  return callTensor(
    "aten::batch_norm",
    input,
    options.weight ?? null,
    options.bias ?? null,
    runningMean,
    runningVar,
    options.training ?? false,
    options.momentum ?? 0.1,
    options.eps ?? 1e-5,
    true,
  );
}

export function gelu(input: Tensor, approximate: "none" | "tanh" = "none"): Tensor {
  return callTensor("aten::gelu", input, approximate);
}

export function relu(input: Tensor): Tensor {
  return callTensor("aten::relu", input);
}

export function silu(input: Tensor): Tensor {
  return callTensor("aten::silu", input);
}

export function softmax(input: Tensor, dim: number): Tensor {
  return callTensor("aten::softmax.int", input, dim);
}

export function logSoftmax(input: Tensor, dim: number): Tensor {
  return callTensor("aten::log_softmax.int", input, dim);
}

export function dropout(input: Tensor, p = 0.5, training = true): Tensor {
  if (!training || p === 0) return callTensor("aten::alias", input);
  return callTensor("aten::dropout", input, p, training);
}

export interface CrossEntropyOptions {
  weight?: Tensor | null;
  reduction?: Reduction;
  ignoreIndex?: number;
  labelSmoothing?: number;
}

/** Cross-entropy of logits against class indices, or against class probabilities (same shape). */
export function crossEntropy(input: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  return callTensor(
    "aten::cross_entropy_loss",
    input,
    target,
    options.weight ?? null,
    reductionCodes[options.reduction ?? "mean"],
    options.ignoreIndex ?? -100,
    options.labelSmoothing ?? 0,
  );
}

export function mseLoss(input: Tensor, target: Tensor, reduction: Reduction = "mean"): Tensor {
  return callTensor("aten::mse_loss", input, target, reductionCodes[reduction]);
}

/** x / max(||x||_p, eps) along dim. */
export function normalize(input: Tensor, p = 2, dim = 1, eps = 1e-12): Tensor {
  const norm = input.norm(p, dim, true);
  const clamped = norm.clampMin(eps);
  const result = input.div(clamped);
  norm.dispose();
  clamped.dispose();
  return result;
}

export function cosineSimilarity(a: Tensor, b: Tensor, dim = 1, eps = 1e-8): Tensor {
  return callTensor("aten::cosine_similarity", a, b, dim, eps);
}

export interface InterpolateOptions {
  size?: number | [number, number];
  scaleFactor?: number | [number, number];
  mode?: "nearest" | "bilinear" | "bicubic" | "area";
  alignCorners?: boolean;
  /** Bilinear and bicubic: widen the filter when shrinking, as PIL does (torch's antialias=True). */
  antialias?: boolean;
}

/** Resizes a [N, C, H, W] batch, as torch.nn.functional.interpolate. */
export function interpolate(input: Tensor, options: InterpolateOptions): Tensor {
  const mode = options.mode ?? "nearest";
  if ((options.size === undefined) === (options.scaleFactor === undefined)) {
    throw new Error("interpolate: give exactly one of size and scaleFactor");
  }
  const size = typeof options.size === "number" ? [options.size, options.size] : (options.size ?? null);
  const scale =
    typeof options.scaleFactor === "number"
      ? [options.scaleFactor, options.scaleFactor]
      : (options.scaleFactor ?? null);
  if (mode === "area") {
    const target = size ?? [Math.floor(input.size(-2) * scale![0]), Math.floor(input.size(-1) * scale![1])];
    return adaptiveAvgPool2d(input, target as [number, number]);
  }
  if (mode === "nearest") return callTensor("aten::upsample_nearest2d.vec", input, size, scale);
  const op = options.antialias
    ? `aten::_upsample_${mode}2d_aa.vec`
    : mode === "bilinear"
      ? "aten::upsample_bilinear2d.vec"
      : "aten::upsample_bicubic2d.vec";
  return callTensor(op, input, size, options.alignCorners ?? false, scale);
}

export function maxPool2d(
  input: Tensor,
  kernelSize: number | [number, number],
  stride: number | [number, number] = kernelSize,
  padding: number | [number, number] = 0,
): Tensor {
  return callTensor("aten::max_pool2d", input, kernelSize, stride, padding, 1, false);
}

export function avgPool2d(
  input: Tensor,
  kernelSize: number | [number, number],
  stride: number | [number, number] = kernelSize,
  padding: number | [number, number] = 0,
): Tensor {
  return callTensor("aten::avg_pool2d", input, kernelSize, stride, padding);
}

export function adaptiveAvgPool2d(input: Tensor, outputSize: number | [number, number]): Tensor {
  return callTensor("aten::adaptive_avg_pool2d", input, outputSize);
}

const gridModes = { bilinear: 0, nearest: 1, bicubic: 2 } as const;
const paddingModes = { zeros: 0, border: 1, reflection: 2 } as const;

/** Samples input at normalised grid locations in [-1, 1] (x, y order), as F.grid_sample. */
export function gridSample(
  input: Tensor,
  grid: Tensor,
  options: {
    mode?: keyof typeof gridModes;
    paddingMode?: keyof typeof paddingModes;
    alignCorners?: boolean;
  } = {},
): Tensor {
  return callTensor(
    "aten::grid_sampler",
    input,
    grid,
    gridModes[options.mode ?? "bilinear"],
    paddingModes[options.paddingMode ?? "zeros"],
    options.alignCorners ?? false,
  );
}

/** Sampling grid [N, H, W, 2] for affine matrices theta [N, 2, 3], as F.affine_grid. */
export function affineGrid(
  theta: Tensor,
  size: [number, number, number, number],
  alignCorners = false,
): Tensor {
  return callTensor("aten::affine_grid_generator", theta, size, alignCorners);
}

/** Pads the last dimensions: pad = [left, right, top, bottom, ...]. */
export function pad(
  input: Tensor,
  padding: number[],
  mode: "constant" | "reflect" | "replicate" = "constant",
  value = 0,
): Tensor {
  if (mode === "constant") return callTensor("aten::constant_pad_nd", input, padding, value);
  if (padding.length !== 4) throw new Error(`pad: ${mode} padding takes [left, right, top, bottom]`);
  return callTensor(
    mode === "reflect" ? "aten::reflection_pad2d" : "aten::replication_pad2d",
    input,
    padding,
  );
}

export function oneHot(indices: Tensor, numClasses = -1): Tensor {
  return callTensor("aten::one_hot", indices, numClasses);
}

let fusedAttention: boolean | undefined;

function hasFusedAttention(): boolean {
  fusedAttention ??= hasOperator("aten::scaled_dot_product_attention");
  return fusedAttention;
}

/**
 * softmax(q k^T * scale) v over the last two dimensions. Uses libtorch 2.x's fused
 * kernel where present, the explicit product otherwise.
 */
export function scaledDotProductAttention(
  query: Tensor,
  key: Tensor,
  value: Tensor,
  scale = 1 / Math.sqrt(query.size(-1)),
): Tensor {
  if (hasFusedAttention() && scale === 1 / Math.sqrt(query.size(-1))) {
    return callTensor("aten::scaled_dot_product_attention", query, key, value);
  }
  const keyT = key.transpose(-2, -1);
  const logits = query.matmul(keyT);
  logits.mul_(scale);
  const weights = logits.softmax(-1);
  const output = weights.matmul(value);
  for (const t of [keyT, logits, weights]) t.dispose();
  return output;
}
