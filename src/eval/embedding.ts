// Features of many images, or of a video's frames, from a frozen encoder, as one file for other
// tools: each input through DINO's evaluation view (evaluation_view.ts: the short side resized
// to 256/224 of the size, bicubic, antialiased, then the centre crop; ImageNet's mean and std),
// in batches through the ViT. Rows go to disk as they come, so memory stays flat in the number
// of inputs; the file is put together at the end and renamed into place, with an index beside
// it (each row's file, or frame and time; the inputs skipped and why).
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { constants } from "node:os";
import { dirname, extname, join, resolve } from "node:path";
import { z } from "zod";
import { normalizeImages } from "../augment/photometric.ts";
import type { RgbImage } from "../data/frame_source.ts";
import { centerCropOf, readCenterCrop } from "../data/image_file.ts";
import { InputError, printNote, StoppedError, UsageError } from "../errors.ts";
import { checkpointOption, deviceOption, outOption, validateConfig } from "../options.ts";
import { pickDevice, safetensorsHeader, scope, type Tensor, tensor } from "../torch/index.ts";
import { temporaryPath, writeFileAtomically } from "../util/atomic_file.ts";
import { makeWritableFolder } from "../util/folders.ts";
import { Progress } from "../util/progress.ts";
import { decodeFrames } from "../video/decode.ts";
import { probeVideo } from "../video/probe.ts";
import { type Encoder, loadEncoder } from "./encoder.ts";

export const embedOptions = {
  checkpoint: checkpointOption,
  images: z.string().optional().describe("a folder of images (searched in its subfolders too)"),
  video: z.string().optional().describe("a video: its frames, every one or --fps of them a second"),
  fps: z.number().positive().optional().describe("frames a second taken from --video (default: every frame)"),
  out: outOption.describe("the file to write (.safetensors, or .npy with --format npy)"),
  tokens: z
    .enum(["cls", "pooled", "patch"])
    .default("cls")
    .describe("cls: the [CLS] feature; pooled: the patch tokens' mean; patch: every patch token"),
  format: z.enum(["safetensors", "npy"]).default("safetensors").describe("the file's format"),
  size: z
    .number()
    .int()
    .positive()
    .optional()
    .describe("the view's side (default: the encoder's image size)"),
  batchSize: z.number().int().positive().default(64).describe("inputs per forward pass"),
  strict: z.boolean().default(false).describe("stop at the first unreadable image instead of skipping it"),
  device: deviceOption,
};

export type EmbedOptions = z.input<z.ZodObject<typeof embedOptions>>;

/** One row of the file: where it came from. */
export type EmbeddingRow = { row: number; path: string } | { row: number; frame: number; time: number };

export interface EmbeddingIndex {
  checkpoint: string;
  tokens: "cls" | "pooled" | "patch";
  size: number;
  /** The array's shape: [rows, dim], or [rows, patches, dim] for patch tokens. */
  shape: number[];
  file: string;
  rows: EmbeddingRow[];
  /** Images left out (unreadable), with the reason. */
  skipped: { path: string; reason: string }[];
}

const imageExtensions = new Set([".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif", ".ppm"]);

/** The image files under a folder, in a stable order. */
function listImages(root: string): string[] {
  let entries;
  try {
    entries = readdirSync(root, { recursive: true, withFileTypes: true });
  } catch {
    throw new InputError(`--images ${root}: not a folder that can be read`);
  }
  return entries
    .filter((entry) => entry.isFile() && imageExtensions.has(extname(entry.name).toLowerCase()))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** Each input's evaluation view in batches: images from a folder, or a video's frames. */
async function* views(
  options: { images?: string; video?: string; fps?: number; batchSize: number; strict: boolean },
  size: number,
  skipped: EmbeddingIndex["skipped"],
): AsyncGenerator<{ images: RgbImage[]; rows: Omit<EmbeddingRow, "row">[]; total: number }> {
  if (options.images !== undefined) {
    const paths = listImages(options.images);
    if (paths.length === 0) throw new InputError(`--images ${options.images} holds no image files`);
    for (let start = 0; start < paths.length; start += options.batchSize) {
      const batch = { images: [] as RgbImage[], rows: [] as { path: string }[], total: paths.length };
      for (const path of paths.slice(start, start + options.batchSize)) {
        try {
          batch.images.push(readCenterCrop(path, size));
          batch.rows.push({ path });
        } catch (error) {
          if (options.strict || !(error instanceof InputError)) throw error;
          skipped.push({ path, reason: error.message });
          printNote(`skipped ${path}: ${error.message}`);
        }
      }
      yield batch;
    }
    return;
  }
  const video = options.video!;
  const info = await probeVideo(video);
  const step = options.fps === undefined ? 1 : Math.max(1, Math.round(info.fps / options.fps));
  const total = Math.ceil(info.frameCount / step);
  let batch = { images: [] as RgbImage[], rows: [] as { frame: number; time: number }[], total };
  let frame = 0;
  const select = step > 1 ? `not(mod(n,${step}))` : undefined;
  for await (const data of decodeFrames(video, {
    width: info.width,
    height: info.height,
    fps: info.fps,
    select,
  })) {
    batch.images.push(centerCropOf({ width: info.width, height: info.height, data }, size));
    batch.rows.push({ frame, time: +(frame / info.fps).toFixed(4) });
    frame += step;
    if (batch.images.length === options.batchSize) {
      yield batch;
      batch = { images: [], rows: [], total };
    }
  }
  if (batch.images.length > 0) yield batch;
}

/** The features of a batch of views, [n, dim] or [n, patches, dim], as float32 on the CPU. */
function features(
  encoder: Encoder,
  images: RgbImage[],
  size: number,
  tokens: EmbeddingIndex["tokens"],
): Tensor {
  return scope(() => {
    const pixels = new Uint8Array(images.length * size * size * 3);
    images.forEach((image, i) => pixels.set(image.data, i * size * size * 3));
    const batch = tensor(pixels, { shape: [images.length, size, size, 3] })
      .to(encoder.device)
      .permute(0, 3, 1, 2)
      .float()
      .div(255);
    const { cls, patchTokens } = encoder.backbone.forward(normalizeImages(batch));
    const chosen = tokens === "cls" ? cls : tokens === "pooled" ? patchTokens.mean(1) : patchTokens;
    return chosen.float().cpu().contiguous();
  });
}

/** The bytes before the data: safetensors' header, or numpy's .npy header (version 1.0). */
function fileHeader(
  format: "safetensors" | "npy",
  shape: number[],
  metadata: Record<string, string>,
): Buffer {
  const bytes = shape.reduce((a, b) => a * b, 1) * 4;
  if (format === "safetensors") {
    return safetensorsHeader({
      __metadata__: metadata,
      features: { dtype: "F32", shape, data_offsets: [0, bytes] },
    });
  }
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(", ")}${shape.length === 1 ? "," : ""}), }`;
  // The magic, version, header length, then the dict padded with spaces to a multiple of 64, ending in \n.
  const padded = dict + " ".repeat(63 - ((10 + dict.length) % 64)) + "\n";
  const prefix = Buffer.from([0x93, ...Buffer.from("NUMPY"), 1, 0, padded.length & 0xff, padded.length >> 8]);
  return Buffer.concat([prefix, Buffer.from(padded, "latin1")]);
}

/** Embeds every input; writes the file and its index; returns the index. */
export async function embed(given: EmbedOptions): Promise<EmbeddingIndex> {
  const options = validateConfig(z.object(embedOptions).strict(), given, "embed");
  if ((options.images === undefined) === (options.video === undefined)) {
    throw new UsageError("give one of --images <folder> and --video <file>");
  }
  if (options.fps !== undefined && options.video === undefined) throw new UsageError("--fps needs --video");
  const out = resolve(options.out);
  const index = out.replace(/\.(safetensors|npy)$/, "") + ".index.json";
  for (const path of [out, index]) {
    if (existsSync(path)) throw new InputError(`${path} exists; give another --out (nothing was written)`);
  }
  const encoder = loadEncoder(options.checkpoint, pickDevice(options.device));
  makeWritableFolder(dirname(out), "the features to --out");
  const size = options.size ?? encoder.backbone.config.imageSize;
  if (size % encoder.patchSize !== 0) {
    throw new UsageError(`--size ${size} is not a multiple of the encoder's patch size ${encoder.patchSize}`);
  }

  const record: EmbeddingIndex = {
    checkpoint: encoder.source,
    tokens: options.tokens,
    size,
    shape: [],
    file: out,
    rows: [],
    skipped: [],
  };
  // Rows first into a file of their own; the header needs their count.
  const rowsPath = temporaryPath(`${out}.rows`);
  const rowsFile = openSync(rowsPath, "w+");
  let rowShape: number[] = [];
  let progress: Progress | null = null;
  // Ctrl-C (or SIGTERM) ends it between batches, leaving nothing behind; a second, at once.
  let stopped: NodeJS.Signals | null = null;
  const stop = (signal: NodeJS.Signals) => {
    if (stopped) process.exit(128 + constants.signals[signal]);
    stopped = signal;
  };
  process.on("SIGINT", stop).on("SIGTERM", stop);
  try {
    for await (const batch of views(options, size, record.skipped)) {
      if (stopped) throw new StoppedError(stopped, `embed stopped by ${stopped}; nothing was written`);
      progress ??= new Progress(batch.total, options.images !== undefined ? "images" : "frames");
      if (batch.images.length > 0) {
        using rows = features(encoder, batch.images, size, options.tokens);
        rowShape = rows.shape.slice(1);
        const values = rows.data() as Float32Array;
        writeSync(rowsFile, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
        for (const row of batch.rows) record.rows.push({ row: record.rows.length, ...row } as EmbeddingRow);
      }
      const seen = record.rows.length + record.skipped.length;
      progress.update(seen, "embedding", 0, seen === batch.total);
    }
    progress?.finish();
    if (record.rows.length === 0) {
      throw new InputError(`none of the ${record.skipped.length} images could be read; nothing was written`);
    }
    record.shape = [record.rows.length, ...rowShape];
    writeFinalFile(
      out,
      fileHeader(options.format, record.shape, {
        checkpoint: encoder.source,
        tokens: options.tokens,
        size: String(size),
      }),
      rowsFile,
    );
    writeFileAtomically(index, JSON.stringify(record, null, 1));
  } finally {
    process.off("SIGINT", stop).off("SIGTERM", stop);
    closeSync(rowsFile);
    rmSync(rowsPath, { force: true });
  }
  return record;
}

/** The header, then the rows copied over in chunks, into a temporary file renamed to `out`. */
function writeFinalFile(out: string, header: Buffer, rowsFile: number): void {
  const temporary = temporaryPath(out);
  const file = openSync(temporary, "w");
  try {
    writeSync(file, header);
    const chunk = Buffer.alloc(1 << 22);
    for (let position = 0; ;) {
      const read = readSync(rowsFile, chunk, 0, chunk.length, position);
      if (read === 0) break;
      writeSync(file, chunk, 0, read);
      position += read;
    }
  } catch (error) {
    closeSync(file);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(file);
  renameSync(temporary, out);
}
