// 2-d convolution over [N, C, H, W] batches.
import { empty, F, type Tensor } from "../torch/index.ts";
import { defaultUniform_ } from "./init.ts";
import { Module } from "./module.ts";

export interface Conv2dOptions {
  stride?: number;
  padding?: number;
  dilation?: number;
  groups?: number;
  bias?: boolean;
}

export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    readonly options: Conv2dOptions = {},
  ) {
    super();
    const groups = options.groups ?? 1;
    const fanIn = (inChannels / groups) * kernelSize * kernelSize;
    this.weight = this.addParameter(
      "weight",
      defaultUniform_(empty([outChannels, inChannels / groups, kernelSize, kernelSize]), fanIn),
    );
    this.bias =
      (options.bias ?? true) ? this.addParameter("bias", defaultUniform_(empty([outChannels]), fanIn)) : null;
  }

  forward(input: Tensor): Tensor {
    return F.conv2d(input, this.weight, this.bias, this.options);
  }
}
