// PNG decoding: round trips through our encoder, files written by ffmpeg with every
// row filter, hand-packed 1/2/4-bit palette images, and clear errors for what is unsupported.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { crc32, deflateSync } from "node:zlib";
import { encodePng } from "../../src/image/png.ts";
import { decodePng } from "../../src/image/png_decode.ts";
import { scratchDir } from "../helpers/videos.ts";

const dir = scratchDir();

function chunk(type: string, body: Uint8Array): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  const typed = Buffer.concat([Buffer.from(type, "latin1"), body]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

/** A PNG from already-filtered scanlines (each led by its filter byte), to reach what our encoder never writes. */
function rawPng(
  width: number,
  height: number,
  bitDepth: number,
  colorType: number,
  scanlines: number[][],
  palette?: number[],
): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = bitDepth;
  header[9] = colorType;
  const parts = [Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", header)];
  if (palette) parts.push(chunk("PLTE", Uint8Array.from(palette)));
  parts.push(chunk("IDAT", deflateSync(Uint8Array.from(scanlines.flat()))), chunk("IEND", new Uint8Array()));
  return Buffer.concat(parts);
}

function ffmpeg(...args: string[]): Buffer {
  return execFileSync("ffmpeg", ["-v", "error", "-y", ...args], { maxBuffer: 1 << 24 });
}

test("round trip through encodePng: palette indices with their palette, RGB, RGBA and grey", () => {
  const width = 7;
  const height = 5;
  const palette: [number, number, number][] = [
    [0, 0, 0],
    [128, 0, 0],
    [0, 128, 0],
    [10, 20, 30],
  ];
  const indices = Uint8Array.from({ length: width * height }, (_, i) => (i * 7) % 4);
  const decoded = decodePng(encodePng({ width, height, channels: 1, data: indices }, palette));
  assert.equal(decoded.color, "palette");
  assert.equal(decoded.channels, 1);
  assert.deepEqual([decoded.width, decoded.height], [width, height]);
  assert.deepEqual(decoded.data, indices);
  assert.deepEqual(decoded.palette, palette);
  for (const [channels, color] of [
    [3, "rgb"],
    [4, "rgba"],
    [1, "grey"],
  ] as const) {
    const data = Uint8Array.from({ length: width * height * channels }, (_, i) => (i * 37 + 11) % 256);
    const image = decodePng(encodePng({ width, height, channels, data }));
    assert.equal(image.color, color);
    assert.equal(image.channels, channels);
    assert.equal(image.palette, undefined);
    assert.deepEqual(image.data, data);
  }
});

test("ffmpeg's PNGs decode to ffmpeg's own raw pixels, whichever row filter it used", () => {
  const source = ["-f", "lavfi", "-i", "testsrc=size=32x24", "-frames:v", "1"];
  for (const predictor of ["none", "sub", "up", "avg", "paeth", "mixed"]) {
    const path = join(dir, `rgb-${predictor}.png`);
    ffmpeg(...source, "-pred", predictor, path);
    const decoded = decodePng(readFileSync(path));
    const expected = ffmpeg("-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-");
    assert.deepEqual([decoded.width, decoded.height, decoded.channels], [32, 24, 3]);
    assert.deepEqual(Buffer.from(decoded.data), expected, `-pred ${predictor}`);
  }
  // The other layouts, each compared with ffmpeg's raw output in the same layout.
  for (const [format, channels] of [
    ["gray", 1],
    ["ya8", 2],
    ["rgba", 4],
  ] as const) {
    const path = join(dir, `${format}.png`);
    ffmpeg(...source, "-pix_fmt", format, "-pred", "mixed", path);
    const decoded = decodePng(readFileSync(path));
    assert.equal(decoded.channels, channels, format);
    const expected = ffmpeg("-i", path, "-f", "rawvideo", "-pix_fmt", format, "-");
    assert.deepEqual(Buffer.from(decoded.data), expected, format);
  }
  // A palette image: indices looked up in the palette give ffmpeg's RGB.
  const palettePath = join(dir, "pal8.png");
  ffmpeg(...source, "-pix_fmt", "pal8", palettePath);
  const indexed = decodePng(readFileSync(palettePath));
  assert.equal(indexed.color, "palette");
  const looked = Buffer.from(Array.from(indexed.data).flatMap((index) => indexed.palette![index]));
  assert.deepEqual(looked, ffmpeg("-i", palettePath, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"));
});

test("1, 2 and 4-bit palette images unpack most significant bits first, rows padded to a byte", () => {
  const palette = [0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9];
  // 1 bit, width 10: row bytes 0b10110000 0b01000000 -> 1 0 1 1 0 0 0 0 0 1.
  const oneBit = decodePng(rawPng(10, 1, 1, 3, [[0, 0b10110000, 0b01000000]], palette));
  assert.deepEqual(Array.from(oneBit.data), [1, 0, 1, 1, 0, 0, 0, 0, 0, 1]);
  // 2 bits, width 5, two rows; the second uses the Up filter (adds the row above, byte-wise).
  // Row 0: 0b00011011 0b11000000 -> 0 1 2 3 3. Row 1 raw bytes 0b00000001 0 -> plus row 0:
  // 0b00011100 0b11000000 -> 0 1 3 0 3.
  const twoBit = decodePng(
    rawPng(
      5,
      2,
      2,
      3,
      [
        [0, 0b00011011, 0b11000000],
        [2, 0b00000001, 0],
      ],
      palette,
    ),
  );
  assert.deepEqual(Array.from(twoBit.data), [0, 1, 2, 3, 3, 0, 1, 3, 0, 3]);
  // 4 bits, width 3: 0x42 0x10 -> 4 2 1; the palette has 5 entries.
  const fourBit = decodePng(rawPng(3, 1, 4, 3, [[0, 0x42, 0x10]], palette));
  assert.deepEqual(Array.from(fourBit.data), [4, 2, 1]);
  assert.deepEqual(fourBit.palette![4], [9, 9, 9]);
});

test("16-bit, interlaced, low-bit grey and damaged files are clear errors", () => {
  const deep = join(dir, "rgb48.png");
  ffmpeg("-f", "lavfi", "-i", "testsrc=size=8x8", "-frames:v", "1", "-pix_fmt", "rgb48be", deep);
  assert.throws(() => decodePng(readFileSync(deep)), /16-bit PNGs are not supported/);
  const interlaced = rawPng(2, 1, 8, 0, [[0, 1, 2]]);
  interlaced[8 + 8 + 12] = 1; // IHDR's interlace byte, then its CRC made right again
  interlaced.writeUInt32BE(crc32(interlaced.subarray(12, 12 + 4 + 13)), 12 + 4 + 13);
  assert.throws(() => decodePng(interlaced), /interlaced \(Adam7\) PNGs are not supported/);
  assert.throws(() => decodePng(rawPng(8, 1, 1, 0, [[0, 0xff]])), /1-bit grey PNGs are not supported/);
  assert.throws(() => decodePng(Buffer.from("GIF89a not a png")), /not a PNG file/);
  const corrupt = encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array(4) });
  corrupt[corrupt.length - 20] ^= 0xff; // a byte inside IDAT
  assert.throws(() => decodePng(corrupt), /IDAT chunk is corrupt \(CRC mismatch\)/);
});
