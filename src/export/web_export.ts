// A web export: one folder that runs the encoder in a browser with nothing else — model.onnx
// (with the [CLS] attention output), index.html (web_page.ts), onnxruntime-web's WebAssembly
// build copied from npm, and a sample: an image's evaluation view as the model's input
// (sample.f32, float32 [1, 3, N, N]) and as a picture (sample.png).
import { copyFileSync, existsSync, readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { imagenetMean, imagenetStd, normalizeImages } from "../augment/photometric.ts";
import { readCenterCrop } from "../data/image_file.ts";
import { InputError } from "../errors.ts";
import { writePng } from "../image/png.ts";
import type { VisionTransformer } from "../models/vit.ts";
import { scope, tensor } from "../torch/index.ts";
import { makeWritableFolder } from "../util/folders.ts";
import { vitToOnnx } from "./vit_onnx.ts";
import { webPageHtml } from "./web_page.ts";

/** onnxruntime-web's files the page loads: the WebAssembly build, one thread. */
const runtimeFiles = ["ort.wasm.min.js", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"];

function runtimeFolder(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve("onnxruntime-web/wasm"));
  } catch {
    throw new InputError("the web export needs onnxruntime-web: npm install onnxruntime-web");
  }
}

export interface WebExportOptions {
  imageSize: number;
  /** An image (or video: its first frame) shown when the page opens. */
  sample: string;
  title: string;
  producerVersion: string;
  docString: string;
}

/** Writes the folder; returns the files written. */
export function writeWebExport(folder: string, vit: VisionTransformer, options: WebExportOptions): string[] {
  const runtime = runtimeFolder();
  if (existsSync(folder) && readdirSync(folder).length > 0) {
    throw new InputError(`--out ${folder} is not empty; give a new or empty folder (nothing was touched)`);
  }
  const size = options.imageSize;
  const view = readCenterCrop(options.sample, size);
  makeWritableFolder(folder, "the web export to --out");
  const model = vitToOnnx(vit, { ...options, attention: true });
  writeFileSync(join(folder, "model.onnx"), model);
  const input = scope(() => {
    const pixels = tensor(view.data, { shape: [1, size, size, 3] })
      .permute(0, 3, 1, 2)
      .float()
      .div(255);
    return normalizeImages(pixels).contiguous();
  });
  const values = input.data() as Float32Array;
  writeFileSync(
    join(folder, "sample.f32"),
    new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
  );
  input.dispose();
  writePng(join(folder, "sample.png"), { ...view, channels: 3 });
  for (const file of runtimeFiles) copyFileSync(join(runtime, file), join(folder, file));
  const { patchSize, numHeads, embedDim } = vit.config;
  writeFileSync(
    join(folder, "index.html"),
    webPageHtml({
      title: options.title,
      imageSize: size,
      patchSize,
      heads: numHeads,
      dim: embedDim,
      mean: imagenetMean,
      std: imagenetStd,
    }),
  );
  return ["index.html", "model.onnx", "sample.f32", "sample.png", ...runtimeFiles];
}
