// DoRA's multi-object discovery and tracking, on one clip's teacher tensors:
//  - discover: k heads' [CLS] attention in the first frame weight its patch queries into
//    k object prototypes, which Sinkhorn–Knopp against the first frame's (L2-normalised)
//    patch features refines into prototypes that claim distinct patches;
//  - track: in every frame, each prototype cross-attends to the frame's patch keys
//    (softmax over patches, scaled by 1/sqrt(d)), giving one object map per frame;
//  - mask: each map thresholded at the mean, over the batch (DoRA's code) or its own.
import { F, noGrad, type Tensor } from "../torch/index.ts";
import { doraSinkhorn, type SinkhornOptions, sinkhornKnopp } from "./sinkhorn.ts";

/**
 * clsAttention [B, k, N]: the chosen heads' attention from [CLS] to the N patches of each
 * clip's first frame; queries [B, N, D] (heads concatenated) and features [B, N, D] of that
 * frame. Returns the refined prototypes [B, k, D].
 */
export function discoverObjects(
  clsAttention: Tensor,
  queries: Tensor,
  features: Tensor,
  sinkhorn: SinkhornOptions = doraSinkhorn,
): Tensor {
  return noGrad(() => {
    using prototypes = clsAttention.matmul(queries); // [B, k, D]
    using unit = F.normalize(features, 2, -1);
    using scores = prototypes.matmul(unit.transpose(-2, -1)); // [B, k, N]
    using plan = sinkhornKnopp(scores, sinkhorn);
    return plan.matmul(unit);
  });
}

/** prototypes [B, k, D], keys [B, T, N, D] -> object maps [B, T, k, N], each a softmax over patches. */
export function trackObjects(prototypes: Tensor, keys: Tensor): Tensor {
  return noGrad(() => {
    const dim = prototypes.size(-1);
    using perFrame = prototypes.unsqueeze(1); // [B, 1, k, D]
    using logits = perFrame.matmul(keys.transpose(-2, -1)); // [B, T, k, N]
    using exact = logits.atLeastFloat32(); // the softmax over patches in fp32 under autocast
    using scaled = exact.mul(dim ** -0.5);
    return scaled.softmax(-1);
  });
}

export type MaskThreshold = "batch" | "map";

/**
 * Object maps [B, T, k, N] -> float masks: 1 where a map, L2-normalised over its patches, exceeds
 * the mean. DoRA's code takes that mean over all B clips' maps of the same frame and object (so
 * a mask depends on the other clips of the process's batch); "map" takes each map's own mean.
 */
export function thresholdAtMean(maps: Tensor, threshold: MaskThreshold = "batch"): Tensor {
  return noGrad(() => {
    using norms = maps.norm(2, -1, true);
    using unit = maps.div(norms);
    using mean = threshold === "batch" ? unit.mean([0, -1], true) : unit.mean(-1, true);
    using above = unit.gt(mean);
    return above.float();
  });
}

/** Masks [..., rows * cols] on the patch grid -> [..., rows * patch, cols * patch] pixels (nearest). */
export function masksToPixels(masks: Tensor, rows: number, cols: number, patch: number): Tensor {
  return noGrad(() => {
    const leading = masks.shape.slice(0, -1);
    using grid = masks.reshape(-1, 1, rows, cols);
    using pixels = F.interpolate(grid, { size: [rows * patch, cols * patch], mode: "nearest" });
    return pixels.reshape(...leading, rows * patch, cols * patch);
  });
}
