// Frozen encoders for evaluation and pictures: a onevideo run folder, its exported
// weights, or an official DINO/DoRA .pth. The ViT's shape is read off the weights, so
// no architecture flag is needed and a mismatch cannot load silently.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { createVit, type VisionTransformer, vitArchitectures, type VitArchitecture } from "../models/vit.ts";
import { type Device, loadPth, readSafetensors, stateDictFrom, type Tensor } from "../torch/index.ts";
import { latestCheckpoint } from "../train/checkpoint.ts";
import { InputError } from "../errors.ts";

export interface Encoder {
  backbone: VisionTransformer;
  architecture: VitArchitecture;
  patchSize: number;
  device: Device;
  /** What was loaded, for reports. */
  source: string;
}

/** Backbone tensors of a run folder: its exported weights, else its last checkpoint's teacher. */
function runFolderTensors(dir: string): { tensors: Map<string, Tensor>; source: string } {
  const weights = join(dir, "weights.safetensors");
  if (existsSync(weights)) return { tensors: readSafetensors(weights).tensors, source: weights };
  const checkpoint = latestCheckpoint(dir);
  if (checkpoint === null) {
    throw new InputError(`${dir} holds neither weights.safetensors nor a checkpoint; train it first`);
  }
  const file = `${checkpoint}.safetensors`;
  const all = readSafetensors(file).tensors;
  const tensors = new Map<string, Tensor>();
  for (const [name, tensor] of all) {
    if (name.startsWith("teacher.backbone.")) tensors.set(name.slice("teacher.backbone.".length), tensor);
  }
  return { tensors, source: `${file} (teacher)` };
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

/** Reads the ViT's width, patch size, depth and position grid from its weights. */
function shapeOf(tensors: Map<string, Tensor>, path: string) {
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
  const architecture = (Object.keys(vitArchitectures) as VitArchitecture[]).find(
    (name) => vitArchitectures[name].embedDim === embedDim,
  );
  if (!architecture) throw new InputError(`${path}: a ViT of width ${embedDim} is not one onevideo builds`);
  const grid = Math.round(Math.sqrt(positions.shape[1] - 1));
  return { architecture, patchSize, imageSize: grid * patchSize };
}

export function loadEncoder(path: string, device: Device = "cpu"): Encoder {
  if (!existsSync(path)) throw new InputError(`checkpoint not found: ${path}`);
  let tensors: Map<string, Tensor>;
  let source = path;
  try {
    if (statSync(path).isDirectory()) ({ tensors, source } = runFolderTensors(path));
    else if (path.endsWith(".safetensors")) tensors = readSafetensors(path).tensors;
    else tensors = pthTensors(path);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(
      `cannot read ${path} as a checkpoint (${(error as Error).message}); give a run folder, a .safetensors or a .pth`,
    );
  }
  const { architecture, patchSize, imageSize } = shapeOf(tensors, path);
  const backbone = createVit(architecture, { patchSize, imageSize });
  try {
    backbone.loadStateDict(tensors);
  } catch (error) {
    throw new InputError(`${path} does not fit a ${architecture}/${patchSize}: ${(error as Error).message}`);
  }
  for (const tensor of tensors.values()) tensor.dispose();
  backbone.to(device).freeze_();
  return { backbone, architecture, patchSize, device, source };
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
