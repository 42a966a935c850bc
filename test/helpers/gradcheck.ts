// Gradient checking by central finite differences in float64.
import { grad, manualSeed, randn, type Tensor, tensor } from "../../src/torch/index.ts";

/**
 * Compares autograd's gradient of sum(fn(inputs) * cotangent) with central differences
 * for every element of every input. Returns the worst relative error.
 */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, shapes: number[][], seed = 0): number {
  manualSeed(seed);
  const values = shapes.map((shape) => randn(shape, { dtype: "float64" }).toArray());
  const make = (i: number, data: number[]) =>
    tensor(data, { dtype: "float64", shape: shapes[i], requiresGrad: true });
  const leaves = values.map((data, i) => make(i, data));
  const output = fn(...leaves);
  const cotangent = randn(output.shape as number[], { dtype: "float64" });
  const analytic = grad([output.mul(cotangent).sum()], leaves).map((g) => g!.toArray());
  const loss = (inputs: number[][]) =>
    fn(...inputs.map((data, i) => make(i, data)))
      .mul(cotangent)
      .sum()
      .item();
  const step = 1e-6;
  let worst = 0;
  values.forEach((data, i) => {
    for (let j = 0; j < data.length; j++) {
      const plus = values.map((v) => [...v]);
      const minus = values.map((v) => [...v]);
      plus[i][j] += step;
      minus[i][j] -= step;
      const numeric = (loss(plus) - loss(minus)) / (2 * step);
      const error = Math.abs(numeric - analytic[i][j]) / Math.max(1, Math.abs(numeric));
      worst = Math.max(worst, error);
    }
  });
  return worst;
}
