// Group normalisation over [N, C, ...] (torch.nn.GroupNorm), with its parameter names.
import { callTensor, ones, type Tensor, zeros } from "../torch/index.ts";
import { Module } from "./module.ts";

export class GroupNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(
    readonly numGroups: number,
    readonly numChannels: number,
    readonly eps = 1e-5,
  ) {
    super();
    if (!Number.isInteger(numGroups) || numGroups < 1 || numChannels % numGroups !== 0) {
      throw new Error(`GroupNorm: ${numChannels} channels cannot be split into ${numGroups} groups`);
    }
    this.weight = this.addParameter("weight", ones([numChannels]));
    this.bias = this.addParameter("bias", zeros([numChannels]));
  }

  forward(input: Tensor): Tensor {
    return callTensor("aten::group_norm", input, this.numGroups, this.weight, this.bias, this.eps, true);
  }
}
