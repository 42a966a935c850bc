// A weight-normalised linear layer, W = g * V / ||V|| per output row, with the
// parameter names of torch.nn.utils.weight_norm (weight_g, weight_v).
import { callTensor, empty, F, type Tensor } from "../torch/index.ts";
import { defaultUniform_ } from "./init.ts";
import { Module } from "./module.ts";

export class WeightNormLinear extends Module {
  readonly weightG: Tensor;
  readonly weightV: Tensor;
  readonly bias: Tensor | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: { bias?: boolean } = {},
  ) {
    super();
    const direction = defaultUniform_(empty([outFeatures, inFeatures]), inFeatures);
    this.weightG = this.addParameter("weight_g", direction.norm(2, 1, true));
    this.weightV = this.addParameter("weight_v", direction);
    this.bias = options.bias
      ? this.addParameter("bias", defaultUniform_(empty([outFeatures]), inFeatures))
      : null;
  }

  /** The effective weight g * v / ||v||. */
  weight(): Tensor {
    return callTensor("aten::_weight_norm", this.weightV, this.weightG, 0);
  }

  forward(input: Tensor): Tensor {
    using weight = this.weight();
    return F.linear(input, weight, this.bias);
  }
}
