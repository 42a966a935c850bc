// Fully connected layer: y = x W^T + b.
import { empty, F, type Tensor } from "../torch/index.ts";
import { defaultUniform_ } from "./init.ts";
import { Module } from "./module.ts";

export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: { bias?: boolean } = {},
  ) {
    super();
    this.weight = this.addParameter("weight", defaultUniform_(empty([outFeatures, inFeatures]), inFeatures));
    this.bias =
      (options.bias ?? true)
        ? this.addParameter("bias", defaultUniform_(empty([outFeatures]), inFeatures))
        : null;
  }

  forward(input: Tensor): Tensor {
    return F.linear(input, this.weight, this.bias);
  }
}
