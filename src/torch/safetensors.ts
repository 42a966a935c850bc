// The safetensors format: an 8-byte little-endian header length, a JSON header
// naming each tensor's dtype, shape and byte range, then the raw little-endian bytes.
import { createHash } from "node:crypto";
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { temporaryPath } from "../util/atomic_file.ts";
import { type DType, bytesPerElement, dtypeCode } from "./dtype.ts";
import { native } from "./native.ts";
import { Tensor } from "./tensor.ts";

const formatNames: Record<string, DType> = {
  F32: "float32",
  F16: "float16",
  BF16: "bfloat16",
  F64: "float64",
  I64: "int64",
  I32: "int32",
  I16: "int16",
  I8: "int8",
  U8: "uint8",
  BOOL: "bool",
};
const namesByDType = Object.fromEntries(Object.entries(formatNames).map(([name, dtype]) => [dtype, name]));

export interface SafetensorsFile {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Reads every tensor of a .safetensors file (onto the CPU). */
/** A safetensors file's first bytes: the header's length, then the header, padded so the data is 8-byte aligned. */
export function safetensorsHeader(header: Record<string, unknown>): Buffer {
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([length, Buffer.from(json, "utf8")]);
}

export function readSafetensors(path: string): SafetensorsFile {
  const bytes = readFileSync(path);
  const fail = (why: string): never => {
    throw new Error(`${path} is not a valid safetensors file: ${why}`);
  };
  if (bytes.length < 8) fail("shorter than its 8-byte header length");
  const headerLength = Number(bytes.readBigUInt64LE(0));
  if (headerLength > bytes.length - 8 || headerLength > 100_000_000) {
    fail(`header length ${headerLength} exceeds the file`);
  }
  let header: Record<string, HeaderEntry | Record<string, string>>;
  try {
    header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString("utf8"));
  } catch {
    return fail("its header is not JSON");
  }
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const tensors = new Map<string, Tensor>();
  let metadata: Record<string, string> = {};
  try {
    for (const [name, value] of Object.entries(header)) {
      if (name === "__metadata__") {
        metadata = value as Record<string, string>;
        continue;
      }
      const entry = value as HeaderEntry;
      const dtype = formatNames[entry.dtype];
      if (!dtype) fail(`tensor '${name}' has unsupported dtype ${entry.dtype}`);
      const [begin, end] = entry.data_offsets ?? [];
      const count = (entry.shape ?? []).reduce((a, b) => a * b, 1);
      if (
        !Number.isInteger(begin) ||
        !Number.isInteger(end) ||
        begin < 0 ||
        end > dataLength ||
        begin > end
      ) {
        fail(`tensor '${name}' has byte range [${begin}, ${end}) outside the ${dataLength} data bytes`);
      }
      if (end - begin !== count * bytesPerElement(dtype)) {
        fail(
          `tensor '${name}' holds ${end - begin} bytes, its shape [${entry.shape}] needs ${count * bytesPerElement(dtype)}`,
        );
      }
      // Copy into an aligned buffer: a Float32Array view needs 4-byte alignment.
      const view = new Uint8Array(end - begin);
      view.set(bytes.subarray(dataStart + begin, dataStart + end));
      tensors.set(name, Tensor.fromHandle(native.fromBuffer(view, entry.shape, dtypeCode(dtype))));
    }
  } catch (error) {
    for (const tensor of tensors.values()) tensor.dispose();
    throw error;
  }
  return { tensors, metadata };
}

/**
 * Writes tensors as .safetensors. The file is written beside the target and renamed
 * over it, so a crash never leaves a torn file. Returns the SHA-256 of the bytes written.
 */
export function writeSafetensors(
  path: string,
  tensors: Map<string, Tensor> | [string, Tensor][],
  metadata: Record<string, string> = {},
): string {
  const entries = [...(tensors instanceof Map ? tensors.entries() : tensors)];
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const payloads: Uint8Array[] = [];
  let offset = 0;
  for (const [name, tensor] of entries) {
    const format = namesByDType[tensor.dtype];
    if (!format) throw new Error(`cannot write '${name}': dtype ${tensor.dtype} has no safetensors name`);
    const payload = new Uint8Array(native.toBuffer(tensor.handle));
    header[name] = { dtype: format, shape: tensor.shape, data_offsets: [offset, offset + payload.length] };
    payloads.push(payload);
    offset += payload.length;
  }
  const temporary = temporaryPath(path);
  const fd = openSync(temporary, "w");
  const digest = createHash("sha256");
  try {
    for (const part of [safetensorsHeader(header), ...payloads]) {
      writeSync(fd, part);
      digest.update(part);
    }
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(temporary, path);
  return digest.digest("hex");
}
