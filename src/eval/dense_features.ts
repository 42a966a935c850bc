// What the dense evaluations (label propagation, the dense probe) need from an encoder:
// a grid of features per image and the pixels per cell. A ViT gives its patch tokens
// (cells of the patch size); a VADeR dense encoder gives its decoder's embeddings
// (cells of 4 pixels). Loaded from a run folder or a weights file of either kind.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { createVaderEncoder, type VaderConfig, vaderConfigKey, vaderConfigSchema } from "../methods/vader.ts";
import type { DenseEncoder } from "../models/dense.ts";
import { type Device, readSafetensors, type Tensor } from "../torch/index.ts";
import { latestCheckpoint } from "../train/checkpoint.ts";
import { InputError } from "../errors.ts";
import { type Encoder, loadEncoder } from "./encoder.ts";

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

function buildVader(config: VaderConfig, tensors: Map<string, Tensor>, path: string, device: Device) {
  const encoder = createVaderEncoder(config, 0);
  try {
    encoder.loadStateDict(tensors);
  } catch (error) {
    throw new InputError(`${path} does not fit a VADeR ${config.arch}: ${(error as Error).message}`);
  }
  for (const tensor of tensors.values()) tensor.dispose();
  encoder.to(device).freeze_();
  return encoder;
}

/** The momentum encoder of a VADeR run folder: its dense.safetensors, else its last checkpoint. */
function vaderRun(dir: string, device: Device): DenseFeatures | null {
  const configPath = join(dir, "config.json");
  if (!existsSync(configPath)) return null;
  // worldSize records how many processes trained it, not a model option.
  const {
    method,
    worldSize: _worldSize,
    ...stored
  } = JSON.parse(readFileSync(configPath, "utf8")) as Record<string, unknown>;
  if (method !== "vader") return null;
  const config = vaderConfigSchema.parse(stored);
  const dense = join(dir, "dense.safetensors");
  if (existsSync(dense)) return vaderFile(dense, device);
  const checkpoint = latestCheckpoint(dir);
  if (checkpoint === null) {
    throw new InputError(`${dir} holds neither dense.safetensors nor a checkpoint; train it first`);
  }
  const file = `${checkpoint}.safetensors`;
  const tensors = new Map<string, Tensor>();
  for (const [name, tensor] of readSafetensors(file).tensors) {
    if (name.startsWith("teacher.")) tensors.set(name.slice("teacher.".length), tensor);
    else tensor.dispose();
  }
  const encoder = buildVader(config, tensors, file, device);
  return vaderDenseFeatures(encoder, device, `${file} (momentum encoder)`);
}

function vaderFile(path: string, device: Device): DenseFeatures | null {
  const { tensors, metadata } = readSafetensors(path);
  const stored = metadata[vaderConfigKey];
  if (stored === undefined) {
    for (const tensor of tensors.values()) tensor.dispose();
    return null;
  }
  const encoder = buildVader(vaderConfigSchema.parse(JSON.parse(stored)), tensors, path, device);
  return vaderDenseFeatures(encoder, device, path);
}

/** Dense features from a run folder or weights file: VADeR's when it is one, else a ViT's patch tokens. */
export function loadDenseFeatures(path: string, device: Device = "cpu"): DenseFeatures {
  if (!existsSync(path)) throw new InputError(`checkpoint not found: ${path}`);
  let dense: DenseFeatures | null = null;
  try {
    if (statSync(path).isDirectory()) dense = vaderRun(path, device);
    else if (path.endsWith(".safetensors")) dense = vaderFile(path, device);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`cannot read ${path} as a checkpoint (${(error as Error).message})`);
  }
  return dense ?? vitDenseFeatures(loadEncoder(path, device));
}
