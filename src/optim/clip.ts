// Gradient clipping.
import { noGrad, stack, type Tensor } from "../torch/index.ts";

/**
 * Scales all gradients together so that their joint norm is at most maxNorm
 * (torch.nn.utils.clip_grad_norm_). Returns the norm before clipping.
 */
export function clipGradNorm(parameters: Tensor[], maxNorm: number, normType = 2): number {
  return noGrad(() => {
    const gradients = parameters.map((p) => p.grad).filter((g): g is Tensor => g !== null);
    if (gradients.length === 0) return 0;
    const norms = gradients.map((g) => g.norm(normType));
    const stacked = stack(norms);
    const total = stacked.norm(normType).item();
    const coefficient = maxNorm / (total + 1e-6);
    if (coefficient < 1) for (const g of gradients) g.mul_(coefficient);
    for (const t of [...gradients, ...norms, stacked]) t.dispose();
    return total;
  });
}

/**
 * Clips each parameter's gradient to norm at most maxNorm separately, as DINO does:
 * scaled by min(1, maxNorm / (norm + 1e-6)). The factor is computed and applied on the
 * device, with no read-back, so a GPU never waits for the host between parameters.
 */
export function clipGradNormPerParameter(parameters: Tensor[], maxNorm: number): void {
  noGrad(() => {
    for (const parameter of parameters) {
      const gradient = parameter.grad;
      if (gradient === null) continue;
      using norm = gradient.norm(2);
      using padded = norm.add(1e-6);
      using inverse = padded.reciprocal();
      using factor = inverse.mul(maxNorm);
      using coefficient = factor.clamp(null, 1);
      gradient.mul_(coefficient);
      gradient.dispose();
    }
  });
}
