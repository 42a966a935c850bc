// Single image files (JPEG, PNG, anything ffmpeg reads) as RGB bytes, optionally resized.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { InputError, requireFile } from "../errors.ts";
import { scope, tensor } from "../torch/index.ts";
import { evaluationView } from "./evaluation_view.ts";
import type { RgbImage } from "./frame_source.ts";

/** The pixel size of an image file. */
export function imageSize(path: string): { width: number; height: number } {
  requireFile(path, "image");
  let text: string;
  try {
    text = execFileSync(
      "ffprobe",
      [
        "-v",
        "error",
        "-select_streams",
        "v:0",
        "-show_entries",
        "stream=width,height",
        "-of",
        "csv=p=0",
        path,
      ],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    );
  } catch {
    throw new InputError(`${path} is not an image ffmpeg can read`);
  }
  const [width, height] = text.trim().split(",").map(Number);
  if (!(width > 0 && height > 0)) throw new InputError(`${path} is not an image ffmpeg can read`);
  return { width, height };
}

/** Decodes the first frame of `path` through ffmpeg's filter chain `filter` into width x height RGB. */
function decodeImage(path: string, filter: string, width: number, height: number): RgbImage {
  let output: Buffer;
  try {
    output = execFileSync(
      "ffmpeg",
      ["-v", "error", "-i", path, "-frames:v", "1", "-vf", `${filter},format=rgb24`, "-f", "rawvideo", "-"],
      { maxBuffer: width * height * 3 + 1024, stdio: ["ignore", "pipe", "pipe"] },
    );
  } catch {
    output = Buffer.alloc(0);
  }
  if (output.length !== width * height * 3) {
    throw new InputError(`${path} could not be decoded as an image; check the file`);
  }
  return { width, height, data: new Uint8Array(output.buffer, output.byteOffset, output.length) };
}

/** An image's RGB bytes, resized bilinearly to `size` when given. */
export function readImage(path: string, size?: { width: number; height: number }): RgbImage {
  const { width, height } = size ?? imageSize(path);
  return decodeImage(path, `scale=${width}:${height}:flags=bilinear`, width, height);
}

/**
 * Several JPEG files' RGB bytes at one size, decoded by a single ffmpeg (their bytes piped in
 * one after another): starting one ffmpeg per frame costs more than decoding small frames.
 */
export function readJpegs(paths: readonly string[], size: { width: number; height: number }): RgbImage[] {
  const { width, height } = size;
  const frameBytes = width * height * 3;
  const input = Buffer.concat(
    paths.map((path) => {
      requireFile(path, "image");
      return readFileSync(path);
    }),
  );
  let output: Buffer;
  try {
    output = execFileSync(
      "ffmpeg",
      [
        ...["-v", "error", "-f", "jpeg_pipe", "-i", "-"],
        ...["-vf", `scale=${width}:${height}:flags=bilinear,format=rgb24`, "-f", "rawvideo", "-"],
      ],
      { input, maxBuffer: paths.length * frameBytes + 1024, stdio: ["pipe", "pipe", "pipe"] },
    );
  } catch {
    output = Buffer.alloc(0);
  }
  if (output.length !== paths.length * frameBytes) {
    throw new InputError(`${paths.length} JPEGs from ${paths[0]} on could not be decoded; check the files`);
  }
  return paths.map((_, index) => ({
    width,
    height,
    data: new Uint8Array(output.buffer, output.byteOffset + index * frameBytes, frameBytes),
  }));
}

/** DINO's evaluation view of an image file (see evaluation_view.ts), as RGB bytes. */
export function readCenterCrop(path: string, size: number): RgbImage {
  return centerCropOf(readImage(path), size);
}

/** DINO's evaluation view of RGB bytes (a decoded image or video frame), as RGB bytes. */
export function centerCropOf(original: RgbImage, size: number): RgbImage {
  const view = scope(() => {
    const { width, height, data } = original;
    const images = tensor(data, { shape: [1, height, width, 3] })
      .permute(0, 3, 1, 2)
      .float()
      .div(255);
    return evaluationView(images, size).mul(255).round().to("uint8").permute(0, 2, 3, 1).contiguous();
  });
  const data = view.data() as Uint8Array;
  view.dispose();
  return { width: size, height: size, data };
}
