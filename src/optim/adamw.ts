// AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, computed as
// torch.optim.AdamW does so that results match PyTorch's to float precision.
import { zerosLike, type Tensor } from "../torch/index.ts";
import { Optimizer, type ParamGroupSpec } from "./optimizer.ts";

export interface AdamWOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export class AdamW extends Optimizer<AdamWOptions> {
  constructor(params: Tensor[] | ParamGroupSpec<AdamWOptions>[], options: Partial<AdamWOptions> = {}) {
    super(params, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-2, ...options });
  }

  protected validate(options: AdamWOptions): void {
    if (!(options.lr >= 0)) throw new Error(`AdamW: lr must be >= 0, got ${options.lr}`);
    for (const beta of [options.beta1, options.beta2]) {
      if (!(beta >= 0 && beta < 1)) throw new Error(`AdamW: betas must lie in [0, 1), got ${beta}`);
    }
    if (!(options.eps >= 0)) throw new Error(`AdamW: eps must be >= 0, got ${options.eps}`);
    if (!(options.weightDecay >= 0))
      throw new Error(`AdamW: weightDecay must be >= 0, got ${options.weightDecay}`);
  }

  protected update(
    parameter: Tensor,
    gradient: Tensor,
    options: AdamWOptions,
    state: Map<string, Tensor>,
    step: number,
  ): void {
    const { lr, beta1, beta2, eps, weightDecay } = options;
    const expAvg = this.stateTensor(state, "exp_avg", () => zerosLike(parameter));
    const expAvgSq = this.stateTensor(state, "exp_avg_sq", () => zerosLike(parameter));

    parameter.mul_(1 - lr * weightDecay);
    expAvg.mul_(beta1).add_(gradient, 1 - beta1);
    expAvgSq.mul_(beta2).addcmul_(gradient, gradient, 1 - beta2);
    const biasCorrection1 = 1 - beta1 ** step;
    const biasCorrection2 = 1 - beta2 ** step;
    using denominator = expAvgSq.sqrt();
    denominator.div_(Math.sqrt(biasCorrection2)).add_(eps);
    parameter.addcdiv_(expAvg, denominator, -lr / biasCorrection1);
  }
}
