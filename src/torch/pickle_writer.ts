// Pickles a state dict exactly as torch.save lays one out (protocol 2): an OrderedDict of
// tensors rebuilt by torch._utils._rebuild_tensor_v2 from storages held beside the pickle.
// Every global it names is on PyTorch's weights_only allow-list.

const storageNames: Record<string, string> = {
  float32: "FloatStorage",
  float64: "DoubleStorage",
  float16: "HalfStorage",
  bfloat16: "BFloat16Storage",
  int64: "LongStorage",
  int32: "IntStorage",
  int16: "ShortStorage",
  int8: "CharStorage",
  uint8: "ByteStorage",
  bool: "BoolStorage",
};

export interface PickledTensor {
  dtype: string;
  shape: readonly number[];
  /** Name of its storage entry in the archive's data/ folder. */
  storageKey: string;
}

class PickleBuilder {
  private readonly bytes: number[] = [];

  op(code: number): this {
    this.bytes.push(code);
    return this;
  }

  global(module: string, name: string): this {
    this.op(0x63);
    for (const byte of Buffer.from(`${module}\n${name}\n`, "utf8")) this.bytes.push(byte);
    return this;
  }

  string(value: string): this {
    const encoded = Buffer.from(value, "utf8");
    this.op(0x58).uint32(encoded.length);
    for (const byte of encoded) this.bytes.push(byte);
    return this;
  }

  int(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff)
      throw new Error(`cannot pickle ${value}`);
    return this.op(0x4a).uint32(value); // BININT: a little-endian int32
  }

  tuple(values: number[]): this {
    this.op(0x28);
    for (const value of values) this.int(value);
    return this.op(0x74);
  }

  emptyOrderedDict(): this {
    return this.global("collections", "OrderedDict").op(0x29).op(0x52);
  }

  private uint32(value: number): this {
    this.bytes.push(value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff);
    return this;
  }

  build(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= shape[i];
  }
  return strides;
}

/** The data.pkl of a torch.save'd state dict whose tensors are contiguous storages. */
export function pickleStateDict(entries: [string, PickledTensor][]): Uint8Array {
  const pickle = new PickleBuilder().op(0x80).op(2).emptyOrderedDict().op(0x28); // PROTO 2, dict, MARK
  for (const [name, tensor] of entries) {
    const storage = storageNames[tensor.dtype];
    if (!storage) throw new Error(`cannot save '${name}': dtype ${tensor.dtype} has no torch storage type`);
    const numel = tensor.shape.reduce((a, b) => a * b, 1);
    pickle.string(name).global("torch._utils", "_rebuild_tensor_v2").op(0x28);
    // Persistent id: ('storage', torch.<Type>Storage, key, 'cpu', numel)
    pickle
      .op(0x28)
      .string("storage")
      .global("torch", storage)
      .string(tensor.storageKey)
      .string("cpu")
      .int(numel);
    pickle.op(0x74).op(0x51); // TUPLE, BINPERSID
    pickle
      .int(0)
      .tuple([...tensor.shape])
      .tuple(contiguousStrides(tensor.shape))
      .op(0x89); // offset, size, stride, requires_grad=False
    pickle.emptyOrderedDict(); // backward hooks
    pickle.op(0x74).op(0x52); // TUPLE, REDUCE
  }
  return pickle.op(0x75).op(0x2e).build(); // SETITEMS, STOP
}
