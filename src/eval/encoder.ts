// Frozen encoders for evaluation and pictures: a onevideo run folder, its exported
// weights, or an official DINO/DoRA .pth. The ViT's shape comes from the weights' metadata
// or is read off the tensors, so no architecture flag is needed and a mismatch cannot
// load silently.
import { existsSync, statSync } from "node:fs";
import { buildModel, type ModelMetadata, readModelMetadata } from "../models/model_metadata.ts";
import { type VisionTransformer, vitArchitectures, type VitArchitecture } from "../models/vit.ts";
import { type Device, loadPth, readSafetensors, stateDictFrom, type Tensor } from "../torch/index.ts";
import { RunFolder, type StoredNetwork } from "../train/run_folder.ts";
import { InputError } from "../errors.ts";

export interface Encoder {
  backbone: VisionTransformer;
  architecture: VitArchitecture;
  patchSize: number;
  device: Device;
  /** What was loaded, for reports. */
  source: string;
}

/** An official checkpoint: the teacher's backbone when the file holds a whole training state. */
function pthTensors(path: string): Map<string, Tensor> {
  const value = loadPth(path);
  const key =
    value instanceof Map ? ["teacher", "state_dict", "model"].find((name) => value.has(name)) : undefined;
  const tensors = stateDictFrom(value, { key, stripPrefixes: ["module.", "backbone."] });
  for (const name of [...tensors.keys()]) if (name.startsWith("head.")) tensors.delete(name);
  return tensors;
}

/** A ViT's shape read off its weights (width, patch size, depth, position grid), for files that do not say. */
function vitShapeOf(tensors: Map<string, Tensor>, path: string): ModelMetadata & { kind: "vit" } {
  const patch = tensors.get("patch_embed.proj.weight");
  const positions = tensors.get("pos_embed");
  if (tensors.has("layer1.0.conv1.weight")) {
    throw new InputError(
      `${path} holds a ResNet (a VADeR run); this command needs a ViT: evaluate it with 'eval davis' or 'eval dense'`,
    );
  }
  if (!patch || !positions) {
    throw new InputError(`${path} holds no ViT backbone (no patch_embed.proj.weight / pos_embed)`);
  }
  const [embedDim, , patchSize] = patch.shape;
  const depth = [...tensors.keys()].filter((name) => /^blocks\.\d+\.norm1\.weight$/.test(name)).length;
  const architecture = (Object.keys(vitArchitectures) as VitArchitecture[]).find(
    (name) => vitArchitectures[name].embedDim === embedDim && vitArchitectures[name].depth === depth,
  );
  if (!architecture) {
    throw new InputError(`${path}: a ViT of width ${embedDim} and depth ${depth} is not one onevideo builds`);
  }
  const grid = Math.round(Math.sqrt(positions.shape[1] - 1));
  const { numHeads } = vitArchitectures[architecture];
  return { kind: "vit", architecture, patchSize, imageSize: grid * patchSize, embedDim, depth, numHeads };
}

/** A checkpoint's backbone weights, from a run folder, a .safetensors or an official .pth. */
export function readWeights(path: string): StoredNetwork {
  if (!existsSync(path)) throw new InputError(`checkpoint not found: ${path}`);
  try {
    if (statSync(path).isDirectory()) return new RunFolder(path).readNetwork("backbone")!;
    if (path.endsWith(".safetensors")) {
      const { tensors, metadata } = readSafetensors(path);
      return { tensors, model: readModelMetadata(metadata), source: path };
    }
    return { tensors: pthTensors(path), model: null, source: path };
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(
      `cannot read ${path} as a checkpoint (${(error as Error).message}); give a run folder, a .safetensors or a .pth`,
    );
  }
}

export function loadEncoder(path: string, device: Device = "cpu"): Encoder {
  return encoderFrom(readWeights(path), path, device);
}

/** The frozen ViT of read weights; its shape comes from their metadata, else from the tensors. */
export function encoderFrom(weights: StoredNetwork, path: string, device: Device): Encoder {
  const { tensors, model, source } = weights;
  if (model !== null && model.kind !== "vit") {
    throw new InputError(
      `${path} holds a ${model.kind === "resnet" ? "ResNet (a VADeR run)" : "dense encoder"}; this command needs a ViT: evaluate it with 'eval davis' or 'eval dense'`,
    );
  }
  const vit = model ?? vitShapeOf(tensors, path);
  const backbone = buildModel(vit) as VisionTransformer;
  try {
    backbone.loadStateDict(tensors);
  } catch (error) {
    throw new InputError(
      `${path} does not fit a ${vit.architecture}/${vit.patchSize}: ${(error as Error).message}`,
    );
  }
  for (const tensor of tensors.values()) tensor.dispose();
  backbone.to(device).freeze_();
  return { backbone, architecture: vit.architecture, patchSize: vit.patchSize, device, source };
}

/** The encoder's input size for a width x height picture: short side `shortSide`, both sides patch multiples. */
export function patchAlignedSize(
  width: number,
  height: number,
  shortSide: number,
  patchSize: number,
): { width: number; height: number } {
  const align = (value: number) => Math.max(patchSize, Math.round(value / patchSize) * patchSize);
  const scale = shortSide / Math.min(width, height);
  return { width: align(width * scale), height: align(height * scale) };
}
