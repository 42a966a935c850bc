// Reading PyTorch checkpoints written by torch.save, through libtorch's own unpickler.
import { type PickleValue, native } from "./native.ts";
import { Tensor } from "./tensor.ts";

/** A torch.save'd object: tensors, numbers, strings, lists, and dicts as Maps (order kept). */
export type PthValue = Tensor | number | boolean | string | null | PthValue[] | Map<string, PthValue>;

function convert(value: PickleValue): PthValue {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(convert);
  if ("dict" in value) {
    return new Map(value.dict.map(([key, item]) => [String(key), convert(item)]));
  }
  return Tensor.fromHandle(value);
}

/** Loads a torch.save file (the zip format PyTorch writes since 1.6). */
export function loadPth(path: string): PthValue {
  return convert(native.loadPickle(path));
}

/** Writes a state dict that torch.load reads. */
export function savePth(path: string, stateDict: Map<string, Tensor>): void {
  native.savePickle(
    path,
    [...stateDict.keys()],
    [...stateDict.values()].map((t) => t.handle),
  );
}

/**
 * The tensors of a state dict inside a loaded checkpoint: the dict itself, or the one
 * under `key` (e.g. "teacher" in DINO/DoRA checkpoints). Prefixes such as "module." are stripped.
 */
export function stateDictFrom(
  value: PthValue,
  options: { key?: string; stripPrefixes?: string[] } = {},
): Map<string, Tensor> {
  let dict = value;
  if (options.key !== undefined) {
    if (!(dict instanceof Map) || !dict.has(options.key)) {
      throw new Error(`checkpoint has no '${options.key}' entry`);
    }
    dict = dict.get(options.key)!;
  }
  if (!(dict instanceof Map)) throw new Error("checkpoint is not a dict of tensors");
  const prefixes = options.stripPrefixes ?? [];
  const result = new Map<string, Tensor>();
  for (const [name, tensor] of dict) {
    if (!(tensor instanceof Tensor)) continue;
    let key = name;
    for (const prefix of prefixes) if (key.startsWith(prefix)) key = key.slice(prefix.length);
    result.set(key, tensor);
  }
  return result;
}
