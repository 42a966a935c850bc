// What a weights file says about the network it holds, so that loading it needs no training
// options: the kind of network and its shape, as JSON under one safetensors metadata key.
// Files written before this key existed are read by their older key or their tensors' shapes.
import type { Module } from "../nn/index.ts";
import { denseEncoder, type DenseBackbone } from "./dense.ts";
import { createResNet, type ResNetArchitecture } from "./resnet.ts";
import { VisionTransformer, type VitArchitecture, vitConfig } from "./vit.ts";

export type ModelMetadata =
  | {
      kind: "vit";
      architecture: VitArchitecture;
      patchSize: number;
      /** Size the position embedding was learned for. */
      imageSize: number;
      embedDim: number;
      depth: number;
      numHeads: number;
    }
  | { kind: "resnet"; architecture: ResNetArchitecture }
  | {
      kind: "dense";
      backbone: DenseBackbone;
      embeddingDim: number;
      decoderWidth: number;
      /** ViT backbones only. */
      patchSize?: number;
      imageSize?: number;
    };

export const modelMetadataKey = "onevideo_model";
/** Dense weights written before modelMetadataKey held their whole VADeR training config here. */
const legacyDenseKey = "onevideo_vader_config";

export function vitMetadata(vit: VisionTransformer, architecture: VitArchitecture): ModelMetadata {
  const { patchSize, imageSize, embedDim, depth, numHeads } = vit.config;
  return { kind: "vit", architecture, patchSize, imageSize, embedDim, depth, numHeads };
}

/** The safetensors metadata entry for a network. */
export function modelMetadataEntry(model: ModelMetadata): Record<string, string> {
  return { [modelMetadataKey]: JSON.stringify(model) };
}

/** The network a file's metadata describes, or null when it says nothing (a .pth, an older ViT export). */
export function readModelMetadata(metadata: Record<string, string>): ModelMetadata | null {
  const stored = metadata[modelMetadataKey];
  if (stored !== undefined) return JSON.parse(stored) as ModelMetadata;
  const legacy = metadata[legacyDenseKey];
  return legacy === undefined ? null : legacyDenseMetadata(JSON.parse(legacy) as Record<string, unknown>);
}

/**
 * A dense encoder's shape from a VADeR run's recorded options (its config.json, or the old
 * metadata key), as runs written before modelMetadataKey spelled them; absent: VADeR's defaults.
 */
export function legacyDenseMetadata(options: Record<string, unknown>): ModelMetadata {
  const backbone = String(options.arch ?? "resnet50") as DenseBackbone;
  const isVit = backbone.startsWith("vit_");
  return {
    kind: "dense",
    backbone,
    embeddingDim: Number(options.embeddingDim ?? 128),
    decoderWidth: Number(options.decoderWidth ?? 256),
    ...(isVit
      ? { patchSize: Number(options.patchSize ?? 16), imageSize: Number(options.imageSize ?? 224) }
      : {}),
  };
}

/** A fresh network of the described shape, ready for its weights. */
export function buildModel(model: ModelMetadata): Module {
  switch (model.kind) {
    case "vit": {
      const { architecture, patchSize, imageSize, embedDim, depth, numHeads } = model;
      return new VisionTransformer(
        vitConfig(architecture, { patchSize, imageSize, embedDim, depth, numHeads }),
      );
    }
    case "resnet":
      return createResNet(model.architecture);
    case "dense": {
      const { backbone, embeddingDim, decoderWidth, patchSize, imageSize } = model;
      const vit = patchSize === undefined ? {} : { patchSize, vit: { imageSize } };
      return denseEncoder({ backbone, embeddingDim, decoderWidth, ...vit });
    }
  }
}
