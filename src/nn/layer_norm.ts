// Layer normalisation over the last dimension, with a learned scale and shift.
import { F, ones, type Tensor, zeros } from "../torch/index.ts";
import { Module } from "./module.ts";

export class LayerNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(
    readonly dim: number,
    readonly eps = 1e-5,
  ) {
    super();
    this.weight = this.addParameter("weight", ones([dim]));
    this.bias = this.addParameter("bias", zeros([dim]));
  }

  forward(input: Tensor): Tensor {
    return F.layerNorm(input, [this.dim], this.weight, this.bias, this.eps);
  }
}
