// onevideo attention: what an encoder's [CLS] token attends to in an image, one PNG per
// head (DINO's figure), plus the image and a strip of all heads beside it.
import { join, resolve } from "node:path";
import { z } from "zod";
import { makeWritableFolder } from "../util/folders.ts";
import { defineCommand, printResult } from "./command.ts";
import { checkpointOption, deviceOption, jsonOption, outOption } from "../options.ts";
import { pickDevice } from "../torch/index.ts";
import { normalizeImages } from "../augment/photometric.ts";
import { imageSize, readImage } from "../data/image_file.ts";
import { loadEncoder, patchAlignedSize } from "../eval/encoder.ts";
import { scope, tensor } from "../torch/index.ts";
import { InputError } from "../errors.ts";
import { attentionStrip, clsAttentionMaps } from "../viz/attention.ts";
import { writePng } from "../image/png.ts";

export const attentionOptions = {
  checkpoint: checkpointOption,
  image: z.string().describe("the image (any format ffmpeg reads)"),
  out: outOption.describe("folder for the PNGs"),
  size: z
    .number()
    .int()
    .positive()
    .optional()
    .describe("short side the encoder sees (default: its training size)"),
  block: z
    .number()
    .int()
    .default(-1)
    .describe("block whose attention is drawn (-1: last, -2: second-to-last)"),
  device: deviceOption,
  json: jsonOption,
};

export const command = defineCommand({
  name: "attention",
  usage: "onevideo attention --checkpoint <run|file> --image <file> --out <dir> [options]",
  options: attentionOptions,
  notes: [
    "Writes image.png, head-<n>.png for every head and heads.png (the image and all heads side by side).",
  ],
  run(options) {
    const encoder = loadEncoder(options.checkpoint, pickDevice(options.device));
    const { backbone, patchSize } = encoder;
    const depth = backbone.blocks.length;
    if (options.block < -depth || options.block >= depth) {
      throw new InputError(
        `--block ${options.block}: the encoder has ${depth} blocks (use -${depth} .. ${depth - 1})`,
      );
    }
    const original = imageSize(options.image);
    const short = options.size ?? backbone.config.imageSize;
    const size = patchAlignedSize(original.width, original.height, short, patchSize);
    const picture = readImage(options.image, size);
    const out = resolve(options.out);
    makeWritableFolder(out, "to --out");
    scope(() => {
      const images = tensor(picture.data, { shape: [1, size.height, size.width, 3] })
        .to(encoder.device)
        .permute(0, 3, 1, 2)
        .float()
        .div(255);
      const maps = clsAttentionMaps(backbone, normalizeImages(images), options.block).cpu();
      writePng(join(out, "image.png"), { ...picture, channels: 3 });
      const zoom = Math.max(1, Math.round(192 / size.height));
      writePng(join(out, "heads.png"), attentionStrip(picture.data, size.width, size.height, maps, zoom));
      for (let head = 0; head < maps.size(0); head++) {
        const strip = attentionStrip(picture.data, size.width, size.height, maps.narrow(0, head, 1), 1);
        // The strip is [image | gap | map]: keep the map alone.
        const left = size.width + 4;
        const data = new Uint8Array(size.width * size.height * 3);
        for (let y = 0; y < size.height; y++) {
          const row = (y * strip.width + left) * 3;
          data.set(strip.data.subarray(row, row + size.width * 3), y * size.width * 3);
        }
        writePng(join(out, `head-${head}.png`), {
          width: size.width,
          height: size.height,
          channels: 3,
          data,
        });
      }
    });
    const heads = encoder.backbone.config.numHeads;
    const files = [
      "image.png",
      "heads.png",
      ...Array.from({ length: heads }, (_, head) => `head-${head}.png`),
    ];
    printResult(options.json, [out], {
      out,
      checkpoint: encoder.source,
      image: options.image,
      size,
      block: options.block,
      heads,
      files,
    });
  },
});
