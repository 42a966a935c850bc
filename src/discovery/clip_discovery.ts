// DoRA's discovery and tracking on any ViT: the objects that k heads' [CLS] attention finds in
// the first frame of each clip, refined by Sinkhorn-Knopp and followed through the clip by
// cross-attention, as pixel masks. Training, pictures, analysis and evaluation share it.
import type { VisionTransformer } from "../models/vit.ts";
import { noGrad, type Tensor, tensor } from "../torch/index.ts";
import {
  discoverObjects,
  type MaskThreshold,
  masksToPixels,
  thresholdAtMean,
  trackObjects,
} from "./object_tracking.ts";

export interface DiscoveryOptions {
  /** Block whose [CLS] attention, queries and keys are used (-1 last). */
  attentionBlock: number;
  sinkhornIterations: number;
  sinkhornEpsilon: number;
  /** Where object maps are cut: at the mean over the batch (DoRA's code, the default) or each at its own. */
  threshold?: MaskThreshold;
}

/**
 * Discovery and tracking with a backbone on a batch of clips [clips * T, 3, H, W]
 * (normalised, frames of a clip consecutive): pixel masks [clips, T, k, H, W] of the
 * objects found by `heads` in each clip's first frame, and every frame's [CLS] feature.
 */
export function discoverInClips(
  backbone: VisionTransformer,
  view: Tensor,
  clips: number,
  heads: number[],
  options: DiscoveryOptions,
): { masks: Tensor; cls: Tensor } {
  return noGrad(() => {
    const patchSize = backbone.config.patchSize;
    const frames = view.size(0) / clips;
    const rows = view.size(-2) / patchSize;
    const cols = view.size(-1) / patchSize;
    const { cls, patchTokens, captured } = backbone.forward(view, { captureBlock: options.attentionBlock });
    const { attention, queries, keys } = captured!;
    const [, headCount, tokens, headDim] = queries.shape;
    const patches = tokens - 1;
    const dim = headCount * headDim;
    const firstFrames = (t: Tensor) => t.view(clips, frames, ...t.shape.slice(1)).select(1, 0);
    const index = tensor(heads, { dtype: "int64", device: view.device });
    // [CLS] row of the chosen heads, over the patches: [clips, k, N].
    const clsAttention = firstFrames(attention).select(2, 0).narrow(2, 1, patches).indexSelect(1, index);
    // Heads side by side: [.., N, D].
    const byPatch = (t: Tensor) => t.narrow(2, 1, patches).permute(0, 2, 1, 3).reshape(-1, patches, dim);
    const prototypes = discoverObjects(
      clsAttention,
      firstFrames(byPatch(queries)),
      firstFrames(patchTokens),
      {
        iterations: options.sinkhornIterations,
        epsilon: options.sinkhornEpsilon,
      },
    );
    const maps = trackObjects(prototypes, byPatch(keys).view(clips, frames, patches, dim));
    const masks = masksToPixels(thresholdAtMean(maps, options.threshold ?? "batch"), rows, cols, patchSize);
    for (const t of [patchTokens, attention, queries, keys, index, clsAttention, prototypes, maps])
      t.dispose();
    return { masks, cls };
  });
}
