// VADeR's loss: InfoNCE per matched pixel. The online encoder's embedding of a scene point
// should pick out the momentum encoder's embedding of the same point in the other view
// among negatives from the queue (pixels of other images). Embeddings are unit vectors,
// so the logits are cosine similarities over the temperature.
import { cat, F, type Tensor, zeros } from "../torch/index.ts";

/**
 * Mean InfoNCE over M pairs: queries [M, D] (with gradient), their positive keys [M, D]
 * and the shared negatives [L, D] (no gradient), all L2-normalised. Also returns how
 * often the positive scores highest (a training signal that needs no labels).
 */
export function pixelInfoNce(
  queries: Tensor,
  keys: Tensor,
  negatives: Tensor,
  temperature: number,
): { loss: Tensor; accuracy: Tensor } {
  using positive = queries.mul(keys).sum(1, true); // [M, 1]
  using negativeT = negatives.t();
  using negative = queries.matmul(negativeT); // [M, L]
  using joined = cat([positive, negative], 1);
  using logits = joined.div(temperature);
  using target = zeros([queries.size(0)], { dtype: "int64" }).to(queries.device);
  using best = logits.detach().argmax(1);
  using hits = best.eq(0);
  return { loss: F.crossEntropy(logits, target), accuracy: hits.float().mean() };
}
