// onevideo export: an encoder as an ONNX model, written by onevideo itself, that onnxruntime
// (in Node, or onnxruntime-web in a browser) runs without Python or onevideo.
import { existsSync, renameSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { loadEncoder } from "../eval/encoder.ts";
import { loadDenseEncoder } from "../eval/dense_features.ts";
import { denseOnnxOpset, denseToOnnx } from "../export/dense_onnx.ts";
import type { DenseEncoder } from "../models/dense.ts";
import { ResNetDenseEncoder } from "../models/fpn.ts";
import { vitOnnxOpset, vitToOnnx } from "../export/vit_onnx.ts";
import { writeWebExport } from "../export/web_export.ts";
import { demoVideo } from "../pretrain/demo.ts";
import { checkpointOption, jsonOption, outOption } from "../options.ts";
import { InputError, UsageError } from "../errors.ts";
import { temporaryPath } from "../util/atomic_file.ts";
import { makeWritableFolder } from "../util/folders.ts";
import { packageVersion } from "../util/system.ts";
import { defineCommand, printResult } from "./command.ts";

/** Writes `file` whole or not at all. */
function writeModel(file: string, model: Uint8Array): void {
  makeWritableFolder(dirname(file), "the model to --out");
  const temporary = temporaryPath(file);
  writeFileSync(temporary, model);
  renameSync(temporary, file);
}

/** A VADeR run's ResNet + FPN encoder as ONNX. */
function exportDense(
  dense: { encoder: DenseEncoder; source: string },
  options: { imageSize?: number; attention: boolean; out: string; json: boolean },
): void {
  if (!(dense.encoder instanceof ResNetDenseEncoder)) {
    throw new InputError(
      `${dense.source} is a ViT dense encoder, whose export is not built; export a ViT run's weights`,
    );
  }
  if (options.attention)
    throw new UsageError("--attention is a ViT's; a dense encoder has no attention to export");
  const imageSize = options.imageSize ?? 224;
  if (imageSize % 32 !== 0)
    throw new UsageError(`--image-size ${imageSize}: a dense encoder's must be a multiple of 32`);
  const { encoder } = dense;
  const out = resolve(options.out);
  const docString = `VADeR ${encoder.backbone.architecture} + FPN from ${dense.source}, ${imageSize} px`;
  writeModel(out, denseToOnnx(encoder, { imageSize, producerVersion: packageVersion(), docString }));
  const side = imageSize / 4;
  printResult(options.json, [out], {
    out,
    opset: denseOnnxOpset,
    inputs: { images: ["batch", 3, imageSize, imageSize] },
    outputs: {
      embeddings: ["batch", encoder.embeddingDim, side, side],
      pooled: ["batch", encoder.globalDim],
    },
  });
}

export const command = defineCommand({
  name: "export",
  usage:
    "onevideo export --checkpoint <run|file> --format onnx [--image-size N] [--attention] --out model.onnx",
  options: {
    checkpoint: checkpointOption,
    format: z
      .enum(["onnx", "web"])
      .default("onnx")
      .describe("onnx: an ONNX model (opset 17); web: a folder whose page runs it in a browser"),
    imageSize: z.number().int().positive().optional().describe("the input's side (default: the encoder's)"),
    attention: z
      .boolean()
      .default(false)
      .describe("also output the last block's [CLS] attention over the patches"),
    out: outOption.describe("the .onnx file (or, for web, the folder) to write"),
    sample: z
      .string()
      .optional()
      .describe("web: the image the page opens with (default: the demo video's first frame)"),
    json: jsonOption,
  },
  notes: [
    "The model's input 'images' is a float32 [batch, 3, N, N] batch of images normalised with",
    "ImageNet's mean and std (the batch is dynamic, N fixed at export: the position embedding",
    "is interpolated for it). Outputs: 'cls' [batch, dim], the normalised [CLS] feature;",
    "'patch_tokens' [batch, patches, dim]; with --attention, 'attention' [batch, heads, patches].",
    "A VADeR run's dense encoder (ResNet + FPN) gives 'embeddings' [batch, D, N/4, N/4], unit norm",
    "per pixel, and 'pooled' [batch, C5]; N a multiple of 32 (default 224).",
    "",
    "--format web writes a folder to serve over HTTP (e.g. python3 -m http.server): index.html runs",
    "model.onnx with onnxruntime-web's WebAssembly build (copied beside it) on the sample and on any",
    "image the user picks, and draws each head's [CLS] attention over it.",
  ],
  run(options) {
    const dense = options.format === "onnx" ? loadDenseEncoder(options.checkpoint) : null;
    if (dense) {
      exportDense(dense, options);
      return;
    }
    const encoder = loadEncoder(options.checkpoint, "cpu");
    const imageSize = options.imageSize ?? encoder.backbone.config.imageSize;
    if (imageSize % encoder.patchSize !== 0) {
      throw new UsageError(
        `--image-size ${imageSize} is not a multiple of the encoder's patch size ${encoder.patchSize}`,
      );
    }
    const docString = `${encoder.architecture}/${encoder.patchSize} from ${encoder.source}, ${imageSize} px`;
    const out = resolve(options.out);
    if (options.format === "web") {
      const sample = options.sample ?? demoVideo;
      if (options.sample === undefined && !existsSync(demoVideo)) {
        throw new UsageError("give --sample <image>: the demo video is not installed to take a frame of");
      }
      const files = writeWebExport(out, encoder.backbone, {
        imageSize,
        sample,
        title: `onevideo: ${encoder.architecture}/${encoder.patchSize} in the browser`,
        producerVersion: packageVersion(),
        docString,
      });
      printResult(options.json, [out], { out, files, imageSize });
      return;
    }
    const model = vitToOnnx(encoder.backbone, {
      imageSize,
      attention: options.attention,
      producerVersion: packageVersion(),
      docString,
    });
    writeModel(out, model);
    const { embedDim, numHeads } = encoder.backbone.config;
    const patches = (imageSize / encoder.patchSize) ** 2;
    printResult(options.json, [out], {
      out,
      opset: vitOnnxOpset,
      bytes: model.length,
      inputs: { images: ["batch", 3, imageSize, imageSize] },
      outputs: {
        cls: ["batch", embedDim],
        patch_tokens: ["batch", patches, embedDim],
        ...(options.attention ? { attention: ["batch", numHeads, patches] } : {}),
      },
    });
  },
});
