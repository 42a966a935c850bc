// onevideo track: what DoRA's teacher discovers and follows in a clip (the paper's Figure 3):
// each object's mask overlaid in its own colour on every frame, and the chosen heads'
// [CLS] attention on the first frame. Works with onevideo runs and official .pth files.
import { join, resolve } from "node:path";
import { z } from "zod";
import { makeWritableFolder } from "../util/folders.ts";
import { defineCommand, printResult } from "./command.ts";
import { checkpointOption, deviceOption, jsonOption, outOption } from "../options.ts";
import { pickDevice } from "../torch/index.ts";
import { normalizeImages } from "../augment/photometric.ts";
import { rgbBatch } from "../data/frame_source.ts";
import { loadEncoder, patchAlignedSize } from "../eval/encoder.ts";
import { scope, tensor } from "../torch/index.ts";
import { decodeFrames } from "../video/decode.ts";
import { InputError } from "../errors.ts";
import { probeVideo } from "../video/probe.ts";
import { attentionStrip, clsAttentionMaps } from "../viz/attention.ts";
import { writePng } from "../image/png.ts";
import { trackedObjectFrames } from "../viz/tracked_objects.ts";

export const trackOptions = {
  checkpoint: checkpointOption,
  video: z.string().describe("the video"),
  out: outOption.describe("folder for the PNGs"),
  start: z.number().min(0).default(0).describe("clip start in seconds"),
  frames: z.number().int().positive().default(8).describe("frames in the clip (T)"),
  stride: z.number().int().positive().default(1).describe("step between the clip's frames"),
  heads: z
    .string()
    .regex(/^\d+(,\d+)*$/)
    .optional()
    .describe("heads that discover the objects, e.g. 0,2,5 (default: the first --objects heads)"),
  objects: z.number().int().positive().default(3).describe("objects when --heads is not given"),
  size: z
    .number()
    .int()
    .positive()
    .optional()
    .describe("short side the encoder sees (default: its training size)"),
  attentionBlock: z.number().int().default(-1).describe("block used (-1 last, -2 second-to-last)"),
  sinkhornIterations: z.number().int().positive().default(30).describe("Sinkhorn-Knopp iterations"),
  sinkhornEpsilon: z.number().positive().default(0.05).describe("Sinkhorn-Knopp entropy weight"),
  device: deviceOption,
  json: jsonOption,
};

export const command = defineCommand({
  name: "track",
  usage:
    "onevideo track --checkpoint <run|file> --video <file> --out <dir> [--start S] [--frames T] [options]",
  options: trackOptions,
  notes: ["Writes frame-<t>.png (each object's mask in its colour over the frame) and heads.png."],
  async run(options) {
    const encoder = loadEncoder(options.checkpoint, pickDevice(options.device));
    const { backbone, patchSize } = encoder;
    const headCount = backbone.config.numHeads;
    const heads = options.heads
      ? options.heads.split(",").map(Number)
      : Array.from({ length: options.objects }, (_, i) => i);
    const missing = heads.find((head) => head >= headCount);
    if (options.heads && missing !== undefined) {
      throw new InputError(`--heads ${missing}: the encoder has ${headCount} heads (0 .. ${headCount - 1})`);
    }
    if (heads.length > headCount || new Set(heads).size < heads.length) {
      throw new InputError(
        `the encoder has ${headCount} heads (0 .. ${headCount - 1}); ask for at most ${headCount} objects, each head once`,
      );
    }
    const depth = backbone.blocks.length;
    if (options.attentionBlock < -depth || options.attentionBlock >= depth) {
      throw new InputError(`--attention-block ${options.attentionBlock}: the encoder has ${depth} blocks`);
    }
    const info = await probeVideo(options.video);
    const startFrame = Math.round(options.start * info.fps);
    const span = (options.frames - 1) * options.stride + 1;
    if (startFrame + span > info.frameCount) {
      throw new InputError(
        `${options.video} has ${info.frameCount} frames; a clip of ${options.frames} frames (stride ${options.stride}) from ${options.start} s does not fit: start earlier or take fewer frames`,
      );
    }
    const short = options.size ?? backbone.config.imageSize;
    const { width, height } = patchAlignedSize(info.width, info.height, short, patchSize);
    const frames: Uint8Array[] = [];
    let index = 0;
    for await (const frame of decodeFrames(options.video, {
      width,
      height,
      fps: info.fps,
      startFrame,
      frameCount: span,
    })) {
      if (index++ % options.stride === 0) frames.push(frame);
    }
    const out = resolve(options.out);
    makeWritableFolder(out, "to --out");
    const overlays = trackedObjectFrames(backbone, frames, width, height, heads, options);
    overlays.forEach((image, t) => writePng(join(out, `frame-${String(t).padStart(3, "0")}.png`), image));
    scope(() => {
      const view = normalizeImages(rgbBatch(frames[0], 1, height, width, encoder.device));
      const maps = clsAttentionMaps(backbone, view, options.attentionBlock).cpu();
      const chosen = maps.indexSelect(0, tensor(Int32Array.from(heads)).long());
      const zoom = Math.max(1, Math.round(192 / height));
      writePng(join(out, "heads.png"), attentionStrip(frames[0], width, height, chosen, zoom));
    });
    const files = [...overlays.keys()].map((t) => `frame-${String(t).padStart(3, "0")}.png`);
    printResult(options.json, [out], {
      out,
      checkpoint: encoder.source,
      video: options.video,
      startFrame,
      stride: options.stride,
      heads,
      files: [...files, "heads.png"],
    });
  },
});
