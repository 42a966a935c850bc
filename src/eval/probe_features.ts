// DINO's linear-evaluation features (eval_linear.py): the normalised [CLS] tokens of the last
// n blocks, concatenated, optionally followed by the mean of the last block's normalised patch
// tokens. More blocks give the linear layer intermediate features as well as the final one.
import { normalizeImages } from "../augment/photometric.ts";
import type { VisionTransformer } from "../models/vit.ts";
import { cat, keep, noGrad, scope, type Tensor } from "../torch/index.ts";
import { InputError } from "../errors.ts";
import type { Encoder } from "./encoder.ts";

export interface ProbeFeatureOptions {
  /** How many of the last blocks give their [CLS] token (DINO: 4 for ViT-S, 1 for ViT-B). */
  blocks: number;
  /** Append the last block's average-pooled patch tokens (DINO's ViT-B setting). */
  avgpool: boolean;
}

/** The feature width: blocks * D, plus D with avgpool. */
export function probeFeatureDim(backbone: VisionTransformer, options: ProbeFeatureOptions): number {
  checkBlocks(backbone, options.blocks);
  return (options.blocks + (options.avgpool ? 1 : 0)) * backbone.embedDim;
}

/** [B, dim] features of already-normalised images [B, 3, H, W]. */
export function probeFeatures(
  backbone: VisionTransformer,
  images: Tensor,
  options: ProbeFeatureOptions,
): Tensor {
  checkBlocks(backbone, options.blocks);
  return scope(() => {
    const depth = backbone.blocks.length;
    const parts: Tensor[] = [];
    let x = backbone.prepareTokens(images);
    backbone.blocks.items.forEach((block, index) => {
      const next = block.forward(x, false).output;
      // Each block's tokens are freed as soon as the next exist, so peak memory is one block's.
      x.dispose();
      x = next;
      if (index < depth - options.blocks) return;
      const normed = backbone.norm.forward(x);
      parts.push(normed.select(1, 0));
      if (options.avgpool && index === depth - 1) parts.push(normed.slice(1, 1, null).mean(1));
    });
    x.dispose();
    return cat(parts, 1);
  });
}

/** [count, dim] features on the CPU; `load(start, n)` gives images [n, 3, H, W] in [0, 1]. */
export function probeFeatureSet(
  encoder: Encoder,
  count: number,
  batchSize: number,
  load: (start: number, n: number) => Tensor,
  options: ProbeFeatureOptions,
): Tensor {
  const chunks: Tensor[] = [];
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    chunks.push(
      noGrad(() =>
        scope(() => {
          const images = load(start, n).to(encoder.device);
          return keep(probeFeatures(encoder.backbone, normalizeImages(images), options).cpu());
        }),
      ),
    );
  }
  const features = cat(chunks, 0);
  for (const chunk of chunks) chunk.dispose();
  return features;
}

function checkBlocks(backbone: VisionTransformer, blocks: number): void {
  const depth = backbone.blocks.length;
  if (!Number.isInteger(blocks) || blocks < 1 || blocks > depth) {
    throw new InputError(`--blocks must be an integer from 1 to the encoder's depth ${depth}, got ${blocks}`);
  }
}
