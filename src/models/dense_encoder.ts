// What every dense encoder gives VADeR and the evaluations: per-pixel embeddings at a
// quarter of the input resolution, unit length over channels, and the backbone's
// image-level feature.
import { Module } from "../nn/index.ts";
import type { Tensor } from "../torch/index.ts";

export interface DenseEncoding {
  /** [N, D, ceil(H/4), ceil(W/4)], each pixel's D-vector of unit L2 norm. */
  embeddings: Tensor;
  /** [N, globalDim]: the backbone's pooled feature (ResNet: averaged C5; ViT: the [CLS] token). */
  pooled: Tensor;
}

/** Output grid of a dense encoder for an H x W input: a quarter, rounded up (as a ResNet's C2). */
export function denseOutputSize(height: number, width: number): [number, number] {
  return [Math.ceil(height / 4), Math.ceil(width / 4)];
}

export abstract class DenseEncoder extends Module {
  abstract readonly backbone: Module;
  /** D, the channels of the embeddings. */
  abstract readonly embeddingDim: number;
  /** Width of the pooled image-level feature. */
  abstract readonly globalDim: number;

  /** Embeddings and pooled feature from one backbone pass. */
  abstract encode(images: Tensor): DenseEncoding;

  /** The pooled image-level feature alone (no decoder), for k-NN and linear evaluation. */
  abstract globalFeatures(images: Tensor): Tensor;

  /** [N, 3, H, W] -> [N, D, ceil(H/4), ceil(W/4)], unit norm at every pixel. */
  forward(images: Tensor): Tensor {
    const { embeddings, pooled } = this.encode(images);
    pooled.dispose();
    return embeddings;
  }
}
