// PyTorch checkpoints in torch.save's format (a zip of a pickle and raw storages, the
// format of PyTorch >= 1.6): read with a data-only unpickler, state dicts written as torch.save writes them.
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { type DType, dtypeCode } from "./dtype.ts";
import { native } from "./native.ts";
import { callTensor, Tensor } from "./tensor.ts";
import { PickleGlobal, PickleObject, unpickle } from "./unpickle.ts";
import { type PickledTensor, pickleStateDict } from "./pickle_writer.ts";
import { openZip } from "./zip_reader.ts";
import { zipStored } from "./zip_writer.ts";

/**
 * A torch.save'd object: tensors, numbers, strings, lists, dicts as Maps (order kept),
 * and other Python objects (e.g. argparse.Namespace) as PythonObject records.
 */
export type PthValue =
  Tensor | number | boolean | string | null | Uint8Array | PthValue[] | Map<string, PthValue> | PythonObject;

/** A Python object kept as its class name and state. */
export interface PythonObject {
  className: string;
  state: PthValue;
}

const storageDTypes: Record<string, DType> = {
  FloatStorage: "float32",
  DoubleStorage: "float64",
  HalfStorage: "float16",
  BFloat16Storage: "bfloat16",
  LongStorage: "int64",
  IntStorage: "int32",
  ShortStorage: "int16",
  CharStorage: "int8",
  ByteStorage: "uint8",
  BoolStorage: "bool",
};

function toPthValue(value: unknown): PthValue {
  if (value instanceof Tensor || value === null || typeof value !== "object") return value as PthValue;
  if (value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map(toPthValue);
  if (value instanceof Map) return new Map([...value].map(([key, item]) => [String(key), toPthValue(item)]));
  if (value instanceof PickleObject)
    return { className: value.className, state: toPthValue(value.state ?? value.args) };
  if (value instanceof PickleGlobal) return { className: value.qualifiedName, state: null };
  return null;
}

/** Loads a torch.save file. Tensors come back on the CPU. */
export function loadPth(path: string): PthValue {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new Error(`cannot open ${path}: ${(error as Error).message}`);
  }
  if (bytes.length < 4 || bytes.readUInt32LE(0) !== 0x04034b50) {
    throw new Error(`${path} is not a torch.save file (expected the zip format PyTorch writes since 1.6)`);
  }
  const storages = new Map<string, Tensor>();
  try {
    const archive = openZip(path, bytes);
    const pickleName = archive.names().find((name) => name.endsWith("data.pkl"));
    if (!pickleName) throw new Error("no data.pkl inside");
    const prefix = pickleName.slice(0, -"data.pkl".length);
    const byteOrder = archive.names().includes(`${prefix}byteorder`)
      ? new TextDecoder().decode(archive.read(`${prefix}byteorder`))
      : "little";
    if (byteOrder !== "little") throw new Error(`big-endian checkpoints are not supported`);
    const value = unpickle(
      archive.read(pickleName),
      {
        persistentLoad(pid) {
          const [kind, storageType, key, , numel] = pid as [string, PickleGlobal, string, string, number];
          const dtype = storageDTypes[storageType?.name];
          if (kind !== "storage" || !dtype)
            throw new Error(`unsupported storage ${String(storageType?.name)}`);
          let storage = storages.get(key);
          if (!storage) {
            const raw = archive.read(`${prefix}data/${key}`);
            const aligned = new Uint8Array(raw.length);
            aligned.set(raw);
            storage = Tensor.fromHandle(native.fromBuffer(aligned, [numel], dtypeCode(dtype)));
            storages.set(key, storage);
          }
          return storage;
        },
        call(callable, args) {
          switch (callable.qualifiedName) {
            case "torch._utils._rebuild_tensor_v2": {
              const [storage, offset, size, stride] = args as [Tensor, number, number[], number[]];
              return callTensor("aten::as_strided", storage, size, stride, offset);
            }
            case "torch._utils._rebuild_parameter":
            case "torch._utils._rebuild_parameter_with_state":
              return args[0];
            case "torch.jit._pickle.restore_type_tag": // libtorch's pickler tags typed containers
            case "torch.jit._pickle.build_intlist":
            case "torch.jit._pickle.build_doublelist":
            case "torch.jit._pickle.build_boollist":
            case "torch.jit._pickle.build_tensorlist":
              return args[0];
            case "collections.OrderedDict":
              return new Map();
            default:
              return undefined;
          }
        },
      },
      path,
    );
    return toPthValue(value);
  } catch (error) {
    throw new Error(`${path} could not be read as a torch.save file: ${(error as Error).message}`);
  } finally {
    for (const storage of storages.values()) storage.dispose(); // the tensors are views that keep what they need
  }
}

/**
 * Writes a state dict as torch.save does, so that torch.load reads it (also with
 * weights_only=True). Written beside the target and renamed over it.
 */
export function savePth(path: string, stateDict: Map<string, Tensor>): void {
  const pickled: [string, PickledTensor][] = [];
  const files: [string, Uint8Array][] = [];
  [...stateDict].forEach(([name, tensor], index) => {
    pickled.push([name, { dtype: tensor.dtype, shape: tensor.shape, storageKey: String(index) }]);
    files.push([`archive/data/${index}`, new Uint8Array(native.toBuffer(tensor.handle))]);
  });
  const entries: [string, Uint8Array][] = [
    ["archive/data.pkl", pickleStateDict(pickled)],
    ["archive/byteorder", Buffer.from("little")],
    ...files,
    ["archive/version", Buffer.from("3\n")],
  ];
  const temporary = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(temporary, Buffer.concat(zipStored(entries)));
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new Error(`cannot write ${path}: ${(error as Error).message}`);
  }
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
