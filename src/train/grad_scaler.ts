// Loss scaling for fp16 training (torch.cuda.amp.GradScaler's rule): the loss is
// multiplied by a large factor so small gradients survive fp16, the gradients are divided
// back before the optimiser sees them, and a step whose gradients overflowed is skipped
// while the factor halves; after `growthInterval` clean steps it doubles.
import { noGrad, stack, type Tensor } from "../torch/index.ts";

export interface GradScalerState {
  scale: number;
  growthTracker: number;
}

export class GradScaler {
  scale: number;
  growthTracker = 0;

  constructor(
    initialScale = 2 ** 16,
    readonly growthFactor = 2,
    readonly backoffFactor = 0.5,
    readonly growthInterval = 2000,
  ) {
    this.scale = initialScale;
  }

  scaleLoss(loss: Tensor): Tensor {
    return loss.mul(this.scale);
  }

  /** Divides every gradient by the scale; false when any is inf or NaN (skip this step). */
  unscale(parameters: Tensor[]): boolean {
    return noGrad(() => {
      const gradients = parameters.map((p) => p.grad).filter((g): g is Tensor => g !== null);
      if (gradients.length === 0) return true;
      const finite = gradients.map((gradient) => {
        gradient.mul_(1 / this.scale);
        using each = gradient.isfinite();
        return each.all();
      });
      using stacked = stack(finite);
      using all = stacked.all();
      const ok = all.item() === 1;
      for (const t of [...gradients, ...finite]) t.dispose();
      return ok;
    });
  }

  /** Adjusts the scale after a step: backs off on overflow, grows after a clean run. */
  update(finite: boolean): void {
    if (!finite) {
      this.scale *= this.backoffFactor;
      this.growthTracker = 0;
      return;
    }
    this.growthTracker += 1;
    if (this.growthTracker >= this.growthInterval) {
      this.scale *= this.growthFactor;
      this.growthTracker = 0;
    }
  }

  get state(): GradScalerState {
    return { scale: this.scale, growthTracker: this.growthTracker };
  }

  set state(saved: GradScalerState) {
    this.scale = saved.scale;
    this.growthTracker = saved.growthTracker;
  }
}
