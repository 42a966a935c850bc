// Dense encoders by name: a ResNet with VADeR's FPN decoder, or a ViT with an upsampling
// decoder. Each maps [N, 3, H, W] to unit-norm D-dimensional embeddings at 1/4 resolution
// and gives its backbone's pooled feature for image-level evaluation.
import { ResNetDenseEncoder } from "./fpn.ts";
import { createResNet, resnetArchitectures, type ResNetArchitecture } from "./resnet.ts";
import { createVit, type VitArchitecture, vitArchitectures, type VitConfig } from "./vit.ts";
import { VitDenseEncoder } from "./vit_dense.ts";
import type { DenseEncoder } from "./dense_encoder.ts";

export { DenseEncoder, type DenseEncoding, denseOutputSize } from "./dense_encoder.ts";

export type DenseBackbone = ResNetArchitecture | VitArchitecture;

export const denseBackbones = [
  ...Object.keys(resnetArchitectures),
  ...Object.keys(vitArchitectures),
] as DenseBackbone[];

export interface DenseEncoderOptions {
  backbone: DenseBackbone;
  /** D, channels of the embeddings. Default 128 (VADeR's). */
  embeddingDim?: number;
  /** Channels inside the decoder: the FPN's pyramid width, or the ViT decoder's width. Default 256. */
  decoderWidth?: number;
  /** ViT only: patch size, a power of two >= 4. Default 16. */
  patchSize?: number;
  /** ViT only: further configuration (depth, imageSize, dropPathRate, ...). */
  vit?: Partial<Omit<VitConfig, "patchSize">>;
  /** ResNet only: start every residual branch at zero. Default false. */
  zeroInitResidual?: boolean;
}

function isResNet(backbone: DenseBackbone): backbone is ResNetArchitecture {
  return Object.hasOwn(resnetArchitectures, backbone);
}

/** Builds a dense encoder, e.g. denseEncoder({ backbone: "resnet50" }) or ({ backbone: "vit_small", patchSize: 8 }). */
export function denseEncoder(options: DenseEncoderOptions): DenseEncoder {
  const { backbone, embeddingDim = 128, decoderWidth = 256 } = options;
  if (!denseBackbones.includes(backbone)) {
    throw new Error(`unknown backbone '${backbone}'; choose one of ${denseBackbones.join(", ")}`);
  }
  if (!Number.isInteger(embeddingDim) || embeddingDim < 1) {
    throw new Error(`embeddingDim must be a whole number >= 1, got ${embeddingDim}`);
  }
  if (isResNet(backbone)) {
    if (options.patchSize !== undefined || options.vit !== undefined) {
      throw new Error(`patchSize and vit apply to ViT backbones, not ${backbone}`);
    }
    const resnet = createResNet(backbone, { zeroInitResidual: options.zeroInitResidual ?? false });
    return new ResNetDenseEncoder(resnet, { embeddingDim, width: decoderWidth });
  }
  if (options.zeroInitResidual !== undefined) {
    throw new Error(`zeroInitResidual applies to ResNet backbones, not ${backbone}`);
  }
  const patchSize = options.patchSize ?? 16;
  if (!Number.isInteger(Math.log2(patchSize / 4)) || patchSize < 4) {
    throw new Error(
      `a dense ViT needs a patch size that is a power of two >= 4 (4, 8, 16, ...), got ${patchSize}`,
    );
  }
  const vit = createVit(backbone, { ...options.vit, patchSize });
  return new VitDenseEncoder(vit, { embeddingDim, width: decoderWidth });
}
