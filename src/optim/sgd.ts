// Stochastic gradient descent with momentum (optionally Nesterov) and L2 weight decay,
// computed as torch.optim.SGD does.
import type { Tensor } from "../torch/index.ts";
import { Optimizer, type ParamGroupSpec } from "./optimizer.ts";

export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

export class SGD extends Optimizer<SGDOptions> {
  constructor(params: Tensor[] | ParamGroupSpec<SGDOptions>[], options: Partial<SGDOptions> = {}) {
    super(params, { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...options });
  }

  protected validate(options: SGDOptions): void {
    if (!(options.lr >= 0)) throw new Error(`SGD: lr must be >= 0, got ${options.lr}`);
    if (!(options.momentum >= 0)) throw new Error(`SGD: momentum must be >= 0, got ${options.momentum}`);
    if (options.nesterov && (options.momentum <= 0 || options.dampening !== 0)) {
      throw new Error("SGD: Nesterov momentum needs momentum > 0 and dampening 0");
    }
  }

  protected update(
    parameter: Tensor,
    gradient: Tensor,
    options: SGDOptions,
    state: Map<string, Tensor>,
  ): void {
    const { lr, momentum, dampening, weightDecay, nesterov } = options;
    using decayed = weightDecay !== 0 ? gradient.add(parameter, weightDecay) : gradient.detach();
    if (momentum === 0) {
      parameter.add_(decayed, -lr);
      return;
    }
    const existing = state.get("momentum_buffer");
    const buffer = this.stateTensor(state, "momentum_buffer", () => decayed.clone());
    if (existing) buffer.mul_(momentum).add_(decayed, 1 - dampening);
    if (nesterov) {
      using direction = decayed.add(buffer, momentum);
      parameter.add_(direction, -lr);
    } else {
      parameter.add_(buffer, -lr);
    }
  }
}
