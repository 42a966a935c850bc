// PNG decoding of 8-bit images: grey, grey+alpha, RGB, RGBA, and palette images
// (1/2/4/8-bit indices, as DAVIS masks are stored). Non-interlaced only.
import { crc32, inflateSync } from "node:zlib";
import type { Image8 } from "./png.ts";

export type PngColor = "grey" | "grey-alpha" | "rgb" | "rgba" | "palette";

export interface DecodedPng extends Omit<Image8, "channels"> {
  /** 1 (grey or palette index), 2 (grey + alpha), 3 (RGB) or 4 (RGBA). */
  channels: 1 | 2 | 3 | 4;
  color: PngColor;
  /** For palette images: [r, g, b] per index; `data` holds the indices. */
  palette?: [number, number, number][];
}

const signature = [137, 80, 78, 71, 13, 10, 26, 10];
const colorTypes: Record<number, { color: PngColor; channels: 1 | 2 | 3 | 4 }> = {
  0: { color: "grey", channels: 1 },
  2: { color: "rgb", channels: 3 },
  3: { color: "palette", channels: 1 },
  4: { color: "grey-alpha", channels: 2 },
  6: { color: "rgba", channels: 4 },
};

/** The predictor the Paeth filter picks: whichever neighbour is closest to a + b - c. */
function paeth(left: number, up: number, upLeft: number): number {
  const estimate = left + up - upLeft;
  const toLeft = Math.abs(estimate - left);
  const toUp = Math.abs(estimate - up);
  const toUpLeft = Math.abs(estimate - upLeft);
  if (toLeft <= toUp && toLeft <= toUpLeft) return left;
  return toUp <= toUpLeft ? up : upLeft;
}

/** Undoes the per-row filters in place; `bytesPerPixel` is how far back "left" is (at least 1). */
function unfilter(raw: Uint8Array, height: number, stride: number, bytesPerPixel: number): Uint8Array {
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const row = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const at = y * stride;
    for (let x = 0; x < stride; x++) {
      const left = x >= bytesPerPixel ? out[at + x - bytesPerPixel] : 0;
      const up = y > 0 ? out[at - stride + x] : 0;
      const upLeft = y > 0 && x >= bytesPerPixel ? out[at - stride + x - bytesPerPixel] : 0;
      let predicted: number;
      switch (filter) {
        case 0:
          predicted = 0;
          break;
        case 1:
          predicted = left;
          break;
        case 2:
          predicted = up;
          break;
        case 3:
          predicted = (left + up) >> 1;
          break;
        case 4:
          predicted = paeth(left, up, upLeft);
          break;
        default:
          throw new Error(`PNG row ${y} has unknown filter type ${filter}`);
      }
      out[at + x] = (row[x] + predicted) & 0xff;
    }
  }
  return out;
}

/** Spreads 1/2/4-bit samples (most significant bits first) into one byte each. */
function unpackBits(packed: Uint8Array, width: number, height: number, bitDepth: number): Uint8Array {
  const stride = Math.ceil((width * bitDepth) / 8);
  const perByte = 8 / bitDepth;
  const mask = (1 << bitDepth) - 1;
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const byte = packed[y * stride + Math.floor(x / perByte)];
      const shift = 8 - bitDepth * ((x % perByte) + 1);
      out[y * width + x] = (byte >> shift) & mask;
    }
  }
  return out;
}

/** Decodes a PNG file's bytes; errors name what is unsupported (16-bit, interlaced) or broken. */
export function decodePng(bytes: Uint8Array): DecodedPng {
  const file = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (file.length < 8 || signature.some((value, i) => file[i] !== value)) {
    throw new Error("not a PNG file (bad signature)");
  }
  let header: Buffer | undefined;
  let palette: [number, number, number][] | undefined;
  const compressed: Buffer[] = [];
  let offset = 8;
  for (;;) {
    if (offset + 12 > file.length) throw new Error("PNG file is truncated (no IEND chunk)");
    const length = file.readUInt32BE(offset);
    const type = file.toString("latin1", offset + 4, offset + 8);
    const end = offset + 8 + length;
    if (end + 4 > file.length) throw new Error(`PNG file is truncated inside its ${type} chunk`);
    if (crc32(file.subarray(offset + 4, end)) !== file.readUInt32BE(end)) {
      throw new Error(`PNG ${type} chunk is corrupt (CRC mismatch)`);
    }
    const body = file.subarray(offset + 8, end);
    offset = end + 4;
    if (type === "IHDR") header = body;
    else if (type === "PLTE") {
      palette = [];
      for (let i = 0; i + 2 < body.length; i += 3) palette.push([body[i], body[i + 1], body[i + 2]]);
    } else if (type === "IDAT") compressed.push(body);
    else if (type === "IEND") break;
  }
  if (!header || header.length !== 13) throw new Error("PNG file has no valid IHDR chunk");
  const width = header.readUInt32BE(0);
  const height = header.readUInt32BE(4);
  const bitDepth = header[8];
  const colorType = header[9];
  const layout = colorTypes[colorType];
  if (!layout) throw new Error(`PNG colour type ${colorType} is not a valid PNG colour type`);
  if (header[12] !== 0) throw new Error("interlaced (Adam7) PNGs are not supported; save it non-interlaced");
  if (bitDepth === 16) throw new Error("16-bit PNGs are not supported; save it with 8 bits per sample");
  const lowBitPalette = colorType === 3 && (bitDepth === 1 || bitDepth === 2 || bitDepth === 4);
  if (bitDepth !== 8 && !lowBitPalette) {
    throw new Error(`${bitDepth}-bit ${layout.color} PNGs are not supported; save it with 8 bits per sample`);
  }
  if (colorType === 3 && !palette) throw new Error("palette PNG has no PLTE chunk");
  const bitsPerPixel = bitDepth * layout.channels;
  const stride = Math.ceil((width * bitsPerPixel) / 8);
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(compressed));
  } catch (error) {
    throw new Error(`PNG image data is corrupt (${(error as Error).message})`);
  }
  if (raw.length < height * (stride + 1)) {
    throw new Error(`PNG image data is truncated (${raw.length} of ${height * (stride + 1)} bytes)`);
  }
  const filtered = unfilter(raw, height, stride, Math.max(1, bitsPerPixel >> 3));
  const data = bitDepth === 8 ? filtered : unpackBits(filtered, width, height, bitDepth);
  const image: DecodedPng = { width, height, channels: layout.channels, color: layout.color, data };
  if (colorType === 3) image.palette = palette;
  return image;
}
