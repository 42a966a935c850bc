// Batch normalisation over the channels of [N, C, H, W], with running statistics for eval.
import { F, ones, type Tensor, tensor, zeros } from "../torch/index.ts";
import { Module } from "./module.ts";

export class BatchNorm2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  readonly numBatchesTracked: Tensor;

  constructor(
    readonly numFeatures: number,
    readonly eps = 1e-5,
    readonly momentum = 0.1,
  ) {
    super();
    this.weight = this.addParameter("weight", ones([numFeatures]));
    this.bias = this.addParameter("bias", zeros([numFeatures]));
    this.runningMean = this.addBuffer("running_mean", zeros([numFeatures]));
    this.runningVar = this.addBuffer("running_var", ones([numFeatures]));
    this.numBatchesTracked = this.addBuffer("num_batches_tracked", tensor(0, { dtype: "int64", shape: [] }));
  }

  forward(input: Tensor): Tensor {
    if (this.training) this.numBatchesTracked.add_(1);
    return F.batchNorm(input, this.runningMean, this.runningVar, {
      weight: this.weight,
      bias: this.bias,
      training: this.training,
      momentum: this.momentum,
      eps: this.eps,
    });
  }
}
