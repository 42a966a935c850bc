// Making tensors: from JavaScript data, filled, ranges and random.
import { type AnyTypedArray, type DType, dtypeCode, dtypeOfTypedArray } from "./dtype.ts";
import { native } from "./native.ts";
import { callTensor, type Device, type Shape, Tensor } from "./tensor.ts";

export interface TensorOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}

type NestedNumbers = number | boolean | NestedNumbers[];

function inferShape(data: NestedNumbers): number[] {
  const shape: number[] = [];
  let level: NestedNumbers = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  return shape;
}

function packed(values: number[], dtype: DType): ArrayBufferView {
  switch (dtype) {
    case "float32":
      return Float32Array.from(values);
    case "float64":
      return Float64Array.from(values);
    case "int64":
      return BigInt64Array.from(values, (value) => BigInt(Math.trunc(value)));
    case "int32":
      return Int32Array.from(values);
    case "int16":
      return Int16Array.from(values);
    case "int8":
      return Int8Array.from(values);
    case "uint8":
    case "bool":
      return Uint8Array.from(values, (value) => (dtype === "bool" ? Number(Boolean(value)) : value));
    default: {
      // 16-bit floats: go through float32 and let libtorch round.
      const wide = Tensor.fromHandle(native.fromBuffer(Float32Array.from(values), [values.length], 6));
      const narrow = wide.to(dtype);
      wide.dispose();
      const bits = narrow.data();
      narrow.dispose();
      return bits;
    }
  }
}

function finish(tensor: Tensor, options: TensorOptions): Tensor {
  let result = tensor;
  if (options.device && options.device !== "cpu") {
    // From pinned memory without blocking: a plain copy would wait for the whole GPU queue.
    const pinned = tensor.pinMemory();
    tensor.dispose();
    result = pinned.to(options.device, { nonBlocking: true });
    pinned.dispose();
  }
  if (options.requiresGrad) result.requiresGrad_(true);
  return result;
}

/**
 * A tensor from nested arrays of numbers or a TypedArray (with a shape). The dtype
 * defaults to float32 for numbers, bool for booleans, and the TypedArray's own type.
 */
export function tensor(
  data: NestedNumbers | AnyTypedArray,
  options: TensorOptions & { shape?: Shape } = {},
): Tensor {
  if (ArrayBuffer.isView(data)) {
    const shape = options.shape ?? [data.length];
    const own = options.dtype ?? dtypeOfTypedArray(data);
    return finish(Tensor.fromHandle(native.fromBuffer(data, shape, dtypeCode(own))), options);
  }
  const shape = options.shape ?? inferShape(data);
  const flat: (number | boolean)[] = [];
  const gather = (level: NestedNumbers): void => {
    if (Array.isArray(level)) for (const item of level) gather(item);
    else flat.push(level);
  };
  gather(data);
  const expected = shape.reduce((a, b) => a * b, 1);
  if (flat.length !== expected) {
    throw new Error(`tensor(): ${flat.length} values do not fill shape [${shape.join(", ")}]`);
  }
  const dtype = options.dtype ?? (typeof flat[0] === "boolean" ? "bool" : "float32");
  const buffer = packed(flat.map(Number), dtype);
  return finish(Tensor.fromHandle(native.fromBuffer(buffer, shape, dtypeCode(dtype))), options);
}

function factory(op: string, shape: Shape, options: TensorOptions, ...leading: unknown[]): Tensor {
  const result = callTensor(
    op,
    ...leading,
    shape,
    dtypeCode(options.dtype ?? "float32"),
    null,
    options.device ?? "cpu",
  );
  if (options.requiresGrad) result.requiresGrad_(true);
  return result;
}

export function zeros(shape: Shape, options: TensorOptions = {}): Tensor {
  return factory("aten::zeros", shape, options);
}

export function ones(shape: Shape, options: TensorOptions = {}): Tensor {
  return factory("aten::ones", shape, options);
}

export function empty(shape: Shape, options: TensorOptions = {}): Tensor {
  return factory("aten::empty.memory_format", shape, options);
}

export function full(shape: Shape, value: number, options: TensorOptions = {}): Tensor {
  const result = callTensor(
    "aten::full",
    shape,
    value,
    dtypeCode(options.dtype ?? "float32"),
    null,
    options.device ?? "cpu",
  );
  if (options.requiresGrad) result.requiresGrad_(true);
  return result;
}

/** Standard normal samples. */
export function randn(shape: Shape, options: TensorOptions = {}): Tensor {
  return factory("aten::randn", shape, options);
}

/** Uniform samples in [0, 1). */
export function rand(shape: Shape, options: TensorOptions = {}): Tensor {
  return factory("aten::rand", shape, options);
}

/** Integers uniformly in [low, high). */
export function randint(low: number, high: number, shape: Shape, options: TensorOptions = {}): Tensor {
  return callTensor(
    "aten::randint.low",
    low,
    high,
    shape,
    dtypeCode(options.dtype ?? "int64"),
    null,
    options.device ?? "cpu",
  );
}

/** A random permutation of 0..n-1. */
export function randperm(n: number, options: TensorOptions = {}): Tensor {
  return callTensor("aten::randperm", n, dtypeCode(options.dtype ?? "int64"), null, options.device ?? "cpu");
}

/** start, start+step, ... below end. Integer arguments give int64 unless a dtype is named. */
export function arange(start: number, end?: number, step = 1, options: TensorOptions = {}): Tensor {
  const [from, to] = end === undefined ? [0, start] : [start, end];
  const whole = Number.isInteger(from) && Number.isInteger(to) && Number.isInteger(step);
  const dtype = options.dtype ?? (whole ? "int64" : "float32");
  return callTensor(
    "aten::arange.start_step",
    from,
    to,
    step,
    dtypeCode(dtype),
    null,
    options.device ?? "cpu",
  );
}

export function linspace(start: number, end: number, steps: number, options: TensorOptions = {}): Tensor {
  return callTensor(
    "aten::linspace",
    start,
    end,
    steps,
    dtypeCode(options.dtype ?? "float32"),
    null,
    options.device ?? "cpu",
  );
}

export function eye(n: number, options: TensorOptions = {}): Tensor {
  return callTensor("aten::eye", n, dtypeCode(options.dtype ?? "float32"), null, options.device ?? "cpu");
}

export function zerosLike(like: Tensor): Tensor {
  return callTensor("aten::zeros_like", like);
}

export function onesLike(like: Tensor): Tensor {
  return callTensor("aten::ones_like", like);
}

export function fullLike(like: Tensor, value: number): Tensor {
  return callTensor("aten::full_like", like, value);
}

export function randnLike(like: Tensor): Tensor {
  return callTensor("aten::randn_like", like);
}

export function randLike(like: Tensor): Tensor {
  return callTensor("aten::rand_like", like);
}
