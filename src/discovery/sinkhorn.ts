// Sinkhorn–Knopp: the entropy-regularised transport plan between prototypes and patches with
// uniform marginals, as DoRA uses it to make its object prototypes claim distinct patches.
// Computed in the log domain, so that sharp scores (small epsilon, extreme logits) stay finite.
import { noGrad, type Tensor } from "../torch/index.ts";

export interface SinkhornOptions {
  /** Alternating row/column normalisations (DoRA: 30). */
  iterations: number;
  /** Entropy weight: scores are divided by it (DoRA: 0.05). */
  epsilon: number;
}

export const doraSinkhorn: SinkhornOptions = { iterations: 30, epsilon: 0.05 };

/**
 * scores [..., K, N] (K prototypes, N patches) -> plan [..., K, N] whose rows each carry
 * N/K of the mass and whose columns each sum to 1: every patch is a soft assignment over
 * prototypes, and every prototype receives an equal share of patches.
 */
export function sinkhornKnopp(scores: Tensor, options: SinkhornOptions = doraSinkhorn): Tensor {
  return noGrad(() => {
    const [prototypes, patches] = scores.shape.slice(-2);
    const rowMass = Math.log(patches / prototypes);
    // fp32 under autocast too: scores / 0.05 in bf16 keep 2-3 significant digits.
    using exact = scores.atLeastFloat32();
    let log = exact.div(options.epsilon);
    for (let i = 0; i < options.iterations; i++) {
      using rowTotals = log.logsumexp(-1, true);
      using rowsScaled = log.sub(rowTotals);
      log.dispose();
      using rowsDone = rowsScaled.add(rowMass);
      using columnTotals = rowsDone.logsumexp(-2, true);
      log = rowsDone.sub(columnTotals);
    }
    using plan = log;
    return plan.exp();
  });
}
