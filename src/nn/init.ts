// Parameter initialisers, in place and without recording gradients (torch.nn.init).
import { callOp, noGrad, type Tensor } from "../torch/index.ts";

/** Normal(mean, std) truncated to [a, b], by inverse-CDF sampling as PyTorch does. */
export function truncNormal_(tensor: Tensor, std = 1, mean = 0, a = -2, b = 2): Tensor {
  const cdf = (x: number) => (1 + erf(x / Math.SQRT2)) / 2;
  const low = cdf((a - mean) / std);
  const high = cdf((b - mean) / std);
  noGrad(() => {
    tensor.uniform_(2 * low - 1, 2 * high - 1);
    callOp("aten::erfinv_", tensor);
    tensor.mul_(std * Math.SQRT2).add_(mean);
    tensor.clamp_(a, b);
  });
  return tensor;
}

/** Uniform(-bound, bound) with bound = 1/sqrt(fan_in): PyTorch's default for Linear and Conv2d. */
export function defaultUniform_(tensor: Tensor, fanIn: number): Tensor {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  noGrad(() => tensor.uniform_(-bound, bound));
  return tensor;
}

export function xavierUniform_(tensor: Tensor): Tensor {
  const [fanOut, fanIn] = [tensor.size(0), tensor.size(1)];
  const bound = Math.sqrt(6 / (fanIn + fanOut));
  noGrad(() => tensor.uniform_(-bound, bound));
  return tensor;
}

export function constant_(tensor: Tensor, value: number): Tensor {
  noGrad(() => tensor.fill_(value));
  return tensor;
}

// Abramowitz–Stegun 7.1.26 is too coarse for the truncation bounds; use the series/continued fraction.
function erf(x: number): number {
  const sign = Math.sign(x);
  const z = Math.abs(x);
  if (z < 3) {
    let term = z;
    let sum = z;
    for (let n = 1; n < 60; n++) {
      term *= (-z * z) / n;
      sum += term / (2 * n + 1);
    }
    return (sign * 2 * sum) / Math.sqrt(Math.PI);
  }
  // erfc continued fraction for large z.
  let fraction = 0;
  for (let n = 60; n >= 1; n--) fraction = n / 2 / (z + fraction);
  return sign * (1 - Math.exp(-z * z) / Math.sqrt(Math.PI) / (z + fraction));
}
