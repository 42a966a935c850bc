// PNG encoding of 8-bit images: grey, RGB, RGBA, or palette indices (DAVIS masks).
import { writeFileSync } from "node:fs";
import { crc32, deflateSync } from "node:zlib";

export interface Image8 {
  width: number;
  height: number;
  /** 1 (grey or palette index), 3 (RGB) or 4 (RGBA). */
  channels: 1 | 3 | 4;
  data: Uint8Array;
}

function chunk(type: string, body: Uint8Array): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  const typed = Buffer.concat([Buffer.from(type, "ascii"), body]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

/** A PNG file's bytes. With a palette ([r, g, b] per index), one-channel data are indices. */
export function encodePng(image: Image8, palette?: [number, number, number][]): Buffer {
  const { width, height, channels, data } = image;
  if (data.length !== width * height * channels) {
    throw new Error(`encodePng: ${data.length} bytes for ${width}x${height}x${channels}`);
  }
  const colorType = palette ? 3 : { 1: 0, 3: 2, 4: 6 }[channels];
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = colorType;
  const stride = width * channels;
  const rows = Buffer.alloc(height * (stride + 1)); // filter byte 0 (none) before each row
  for (let y = 0; y < height; y++)
    rows.set(data.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const parts = [Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", header)];
  if (palette) parts.push(chunk("PLTE", Uint8Array.from(palette.flat())));
  parts.push(chunk("IDAT", deflateSync(rows)), chunk("IEND", new Uint8Array()));
  return Buffer.concat(parts);
}

export function writePng(path: string, image: Image8, palette?: [number, number, number][]): void {
  writeFileSync(path, encodePng(image, palette));
}
