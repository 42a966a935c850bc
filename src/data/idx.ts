// IDX files, the format MNIST and Fashion-MNIST ship in: a 4-byte magic (two zero bytes,
// a data-type byte, a dimension count), the dimension sizes as big-endian uint32s, then
// the elements, big-endian, row-major. Gzipped files are recognised by their own magic.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { InputError, requireFile } from "../errors.ts";

export type IdxType = "uint8" | "int8" | "int16" | "int32" | "float32" | "float64";
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  type: IdxType;
  shape: number[];
  /** The elements in row-major order, in this machine's byte order. */
  data: IdxData;
}

// The data-type byte of the magic, and each type's element size.
const types = new Map<number, { type: IdxType; bytes: number }>([
  [0x08, { type: "uint8", bytes: 1 }],
  [0x09, { type: "int8", bytes: 1 }],
  [0x0b, { type: "int16", bytes: 2 }],
  [0x0c, { type: "int32", bytes: 4 }],
  [0x0d, { type: "float32", bytes: 4 }],
  [0x0e, { type: "float64", bytes: 8 }],
]);

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Reads an IDX file, gzipped or not. A malformed file is an InputError naming it. */
export function readIdx(path: string): IdxArray {
  requireFile(path, "IDX file");
  let bytes: Uint8Array = readFileSync(path);
  if (isGzip(bytes)) {
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      throw new InputError(`${path} is not a valid gzip file (${(error as Error).message})`);
    }
  }
  return parseIdx(bytes, path);
}

/** Decodes IDX bytes; `name` is the file the errors name. */
export function parseIdx(bytes: Uint8Array, name: string): IdxArray {
  if (bytes.length < 4) {
    throw new InputError(`${name} is not an IDX file: ${bytes.length} bytes, shorter than the 4-byte magic`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kind = types.get(bytes[2]);
  const rank = bytes[3];
  if (bytes[0] !== 0 || bytes[1] !== 0 || kind === undefined || rank === 0) {
    const magic = [...bytes.subarray(0, 4)].map((byte) => byte.toString(16).padStart(2, "0")).join(" ");
    throw new InputError(
      `${name} is not an IDX file: magic ${magic}, expected 00 00 <type 08|09|0b|0c|0d|0e> <dimensions>`,
    );
  }
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new InputError(
      `${name} is truncated: ${bytes.length} bytes, its ${rank}-d header needs ${headerBytes}`,
    );
  }
  const shape: number[] = [];
  for (let dim = 0; dim < rank; dim++) shape.push(view.getUint32(4 + 4 * dim, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const dataBytes = bytes.length - headerBytes;
  if (dataBytes !== count * kind.bytes) {
    throw new InputError(
      `${name} holds ${dataBytes} bytes of data, but its header [${shape.join(", ")}] of ${kind.type} ` +
        `needs ${count * kind.bytes}`,
    );
  }
  return { type: kind.type, shape, data: decode(kind.type, view, headerBytes, count) };
}

// Copies into a fresh typed array, swapping multi-byte elements from big-endian.
function decode(type: IdxType, view: DataView, offset: number, count: number): IdxData {
  const start = view.byteOffset + offset;
  switch (type) {
    case "uint8":
      return new Uint8Array(view.buffer.slice(start, start + count));
    case "int8":
      return new Int8Array(view.buffer.slice(start, start + count));
    case "int16":
      return Int16Array.from({ length: count }, (_, i) => view.getInt16(offset + 2 * i, false));
    case "int32":
      return Int32Array.from({ length: count }, (_, i) => view.getInt32(offset + 4 * i, false));
    case "float32":
      return Float32Array.from({ length: count }, (_, i) => view.getFloat32(offset + 4 * i, false));
    case "float64":
      return Float64Array.from({ length: count }, (_, i) => view.getFloat64(offset + 8 * i, false));
  }
}
