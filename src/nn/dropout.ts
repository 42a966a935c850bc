// Regularisers active only in training: Dropout zeroes elements, DropPath whole samples.
import { callOp, callTensor, F, type Tensor } from "../torch/index.ts";
import { Module } from "./module.ts";

export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
  }

  forward(input: Tensor): Tensor {
    return F.dropout(input, this.p, this.training);
  }
}

/**
 * Stochastic depth: in training, each sample's residual branch is dropped with
 * probability p and the survivors are scaled by 1/(1-p).
 */
export class DropPath extends Module {
  constructor(readonly p = 0) {
    super();
  }

  forward(input: Tensor): Tensor {
    if (!this.training || this.p === 0) return callTensor("aten::alias", input);
    const keep = 1 - this.p;
    const maskShape = [input.size(0), ...input.shape.slice(1).map(() => 1)];
    using mask = callTensor("aten::new_empty", input, maskShape);
    callOp("aten::bernoulli_.float", mask, keep);
    mask.div_(keep);
    return input.mul(mask);
  }
}
