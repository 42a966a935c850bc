// Semi-supervised video object segmentation by label propagation (the protocol DINO uses
// on DAVIS-2017): each new frame's patch labels are an affinity-weighted vote of the
// labels of the first frame and the last few frames, where affinity is the exponentiated
// cosine similarity of patch features, kept only for the top-k sources per target patch
// within a spatial neighbourhood.
import { cat, noGrad, scope, type Tensor, tensor } from "../torch/index.ts";

export interface PropagationOptions {
  /** Previous frames used as context, besides the first (DINO: 7). */
  contextFrames: number;
  /** Source patches kept per target patch (DINO: 5). */
  topK: number;
  /** Patches a source may lie from the target along each axis; 0 for no limit (DINO: 12). */
  neighborhood: number;
  /** Divides the cosine similarity before exponentiation (DINO: 0.1). */
  temperature: number;
}

export const dinoPropagation: PropagationOptions = {
  contextFrames: 7,
  topK: 5,
  neighborhood: 12,
  temperature: 0.1,
};

/** [hw, hw] with 1 where source and target patches are within `radius` rows and columns. */
export function neighborhoodMask(rows: number, cols: number, radius: number): Tensor {
  const count = rows * cols;
  const mask = new Float32Array(count * count);
  for (let target = 0; target < count; target++) {
    const tr = Math.floor(target / cols);
    const tc = target % cols;
    for (let source = 0; source < count; source++) {
      const sr = Math.floor(source / cols);
      const sc = source % cols;
      if (Math.abs(sr - tr) <= radius && Math.abs(sc - tc) <= radius) mask[source * count + target] = 1;
    }
  }
  return tensor(mask, { shape: [count, count] });
}

/** One context entry: a frame's L2-normalised patch features [hw, D] and soft labels [C, hw]. */
export interface LabelledFrame {
  features: Tensor;
  labels: Tensor;
}

/**
 * The soft labels [C, hw] of a target frame with patch features [hw, D], from the
 * context frames. `mask` is the neighbourhood mask, or null for none.
 */
export function propagateLabels(
  target: Tensor,
  context: LabelledFrame[],
  options: PropagationOptions,
  mask: Tensor | null,
): Tensor {
  // One scope frees every intermediate at once: left to the garbage collector, which does not
  // see native memory, a ResNet's 768-patch affinities grew the process past 24 GB.
  return scope(() =>
    noGrad(() => {
      // Affinity of every context patch (rows) to every target patch (columns).
      const affinities = context.map(({ features }) => {
        const affinity = features.matmul(target.t()).div(options.temperature).exp();
        return mask ? affinity.mul(mask) : affinity;
      });
      const stacked = cat(affinities, 0);
      const k = Math.min(options.topK, stacked.size(0));
      const kth = stacked.topk(k, 0).values.min(0, true).values;
      const kept = stacked.ge(kth).float().mul(stacked);
      const weights = kept.div(kept.sum(0, true));
      const labels = cat(
        context.map(({ labels }) => labels),
        1,
      );
      return labels.matmul(weights);
    }),
  );
}
