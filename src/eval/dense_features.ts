// What the dense evaluations (label propagation, the dense probe) need from an encoder:
// a grid of features per image and the pixels per cell. A ViT gives its patch tokens
// (cells of the patch size); a VADeR dense encoder gives its decoder's embeddings
// (cells of 4 pixels). Loaded from a run folder or a weights file of either kind, whose
// metadata says which it is.
import { existsSync, statSync } from "node:fs";
import { InputError } from "../errors.ts";
import type { DenseEncoder } from "../models/dense.ts";
import { buildModel } from "../models/model_metadata.ts";
import type { Device, Tensor } from "../torch/index.ts";
import { RunFolder, type StoredNetwork } from "../train/run_folder.ts";
import { type Encoder, encoderFrom, readWeights } from "./encoder.ts";

export interface DenseFeatures {
  /** Pixels per feature cell along each side. */
  patchSize: number;
  device: Device;
  /** What was loaded, for reports. */
  source: string;
  /** Normalised images [N, 3, H, W] -> features [N, (H / patchSize) * (W / patchSize), D]. */
  cells(images: Tensor): Tensor;
}

/** A ViT's patch tokens as dense features. */
export function vitDenseFeatures(encoder: Encoder): DenseFeatures {
  return {
    patchSize: encoder.patchSize,
    device: encoder.device,
    source: encoder.source,
    cells: (images) => {
      const { cls, patchTokens } = encoder.backbone.forward(images);
      cls.dispose();
      return patchTokens;
    },
  };
}

/** A VADeR encoder's per-pixel embeddings, one cell per 4 pixels. */
export function vaderDenseFeatures(encoder: DenseEncoder, device: Device, source: string): DenseFeatures {
  return {
    patchSize: 4,
    device,
    source,
    cells: (images) => {
      using embeddings = encoder.forward(images);
      using flat = embeddings.flatten(2);
      return flat.transpose(1, 2);
    },
  };
}

/** A frozen dense encoder from weights that describe one (a VADeR run's). */
function denseEncoderFrom(weights: StoredNetwork, device: Device): DenseEncoder {
  const { tensors, model, source } = weights;
  const encoder = buildModel(model!) as DenseEncoder;
  try {
    encoder.loadStateDict(tensors);
  } catch (error) {
    const backbone = model!.kind === "dense" ? model!.backbone : model!.kind;
    throw new InputError(`${source} does not fit a VADeR ${backbone}: ${(error as Error).message}`);
  }
  for (const tensor of tensors.values()) tensor.dispose();
  return encoder.to(device).freeze_();
}

/** The stored network of a run folder or weights file: its dense encoder where it has one. */
function denseOrBackbone(path: string): StoredNetwork {
  if (!existsSync(path)) throw new InputError(`checkpoint not found: ${path}`);
  let dense: StoredNetwork | null = null;
  try {
    if (statSync(path).isDirectory()) dense = new RunFolder(path).readNetwork("dense");
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`cannot read ${path} as a checkpoint (${(error as Error).message})`);
  }
  return dense ?? readWeights(path);
}

/** A frozen dense encoder (a VADeR run's) from a run folder or weights file, or null where there is none. */
export function loadDenseEncoder(
  path: string,
  device: Device = "cpu",
): { encoder: DenseEncoder; source: string } | null {
  const weights = denseOrBackbone(path);
  if (weights.model?.kind !== "dense") {
    for (const tensor of weights.tensors.values()) tensor.dispose();
    return null;
  }
  return { encoder: denseEncoderFrom(weights, device), source: weights.source };
}

/** Dense features from a run folder or weights file: a dense encoder's when it is one, else a ViT's patch tokens. */
export function loadDenseFeatures(path: string, device: Device = "cpu"): DenseFeatures {
  const weights = denseOrBackbone(path);
  if (weights.model?.kind === "dense") {
    return vaderDenseFeatures(denseEncoderFrom(weights, device), device, weights.source);
  }
  return vitDenseFeatures(encoderFrom(weights, path, device));
}
