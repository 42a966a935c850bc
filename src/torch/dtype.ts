// Element types, with libtorch's ScalarType codes and the TypedArray that holds each.

export type DType =
  "uint8" | "int8" | "int16" | "int32" | "int64" | "float16" | "float32" | "float64" | "bool" | "bfloat16";

/** c10::ScalarType values (stable across libtorch 1.x and 2.x). */
const scalarTypeCodes: Record<DType, number> = {
  uint8: 0,
  int8: 1,
  int16: 2,
  int32: 3,
  int64: 4,
  float16: 5,
  float32: 6,
  float64: 7,
  bool: 11,
  bfloat16: 15,
};

const dtypesByCode = new Map<number, DType>(
  Object.entries(scalarTypeCodes).map(([name, code]) => [code, name as DType]),
);

export function dtypeCode(dtype: DType): number {
  const code = scalarTypeCodes[dtype];
  if (code === undefined) throw new Error(`unknown dtype '${dtype}'`);
  return code;
}

export function dtypeFromCode(code: number): DType {
  const dtype = dtypesByCode.get(code);
  if (!dtype) throw new Error(`libtorch dtype code ${code} has no onevideo name`);
  return dtype;
}

export function isFloatingDType(dtype: DType): boolean {
  return dtype === "float16" || dtype === "float32" || dtype === "float64" || dtype === "bfloat16";
}

export function bytesPerElement(dtype: DType): number {
  switch (dtype) {
    case "uint8":
    case "int8":
    case "bool":
      return 1;
    case "int16":
    case "float16":
    case "bfloat16":
      return 2;
    case "int32":
    case "float32":
      return 4;
    default:
      return 8;
  }
}

/** The TypedArray a tensor's raw elements are read into (16-bit floats stay raw bits). */
export type TypedArrayFor<D extends DType> = D extends "float32"
  ? Float32Array
  : D extends "float64"
    ? Float64Array
    : D extends "int64"
      ? BigInt64Array
      : D extends "int32"
        ? Int32Array
        : D extends "int16" | "float16" | "bfloat16"
          ? Uint16Array | Int16Array
          : D extends "int8"
            ? Int8Array
            : Uint8Array;

export type AnyTypedArray =
  | Float32Array
  | Float64Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array;

export function typedArrayView(dtype: DType, buffer: ArrayBuffer): AnyTypedArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(buffer);
    case "float64":
      return new Float64Array(buffer);
    case "int64":
      return new BigInt64Array(buffer);
    case "int32":
      return new Int32Array(buffer);
    case "int16":
      return new Int16Array(buffer);
    case "float16":
    case "bfloat16":
      return new Uint16Array(buffer);
    case "int8":
      return new Int8Array(buffer);
    default:
      return new Uint8Array(buffer);
  }
}

/** The dtype a TypedArray's elements have when copied into a tensor as they are. */
export function dtypeOfTypedArray(array: AnyTypedArray): DType {
  if (array instanceof Float32Array) return "float32";
  if (array instanceof Float64Array) return "float64";
  if (array instanceof BigInt64Array) return "int64";
  if (array instanceof Int32Array) return "int32";
  if (array instanceof Int16Array) return "int16";
  if (array instanceof Int8Array) return "int8";
  if (array instanceof Uint8Array) return "uint8";
  throw new Error("a Uint16Array has no implied dtype: say float16 or bfloat16");
}
