// The pictures of a run folder: the loss curve, and the teacher's attention on a few frames.
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { normalizeImages } from "../augment/photometric.ts";
import type { VisionTransformer } from "../models/vit.ts";
import { F, scope, tensor } from "../torch/index.ts";
import type { ImageSource } from "../data/frame_source.ts";
import { attentionStrip, clsAttentionMaps } from "./attention.ts";
import { linePlotSvg, svgToPng } from "./line_plot.ts";
import { writePng } from "./png.ts";

export function writeLossCurve(runDir: string): string {
  const records = readFileSync(join(runDir, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as { step: number; loss: number });
  mkdirSync(join(runDir, "pictures"), { recursive: true });
  const path = join(runDir, "pictures", "loss.png");
  svgToPng(
    linePlotSvg([{ label: "loss", x: records.map((r) => r.step), y: records.map((r) => r.loss) }], {
      title: "training loss",
      xLabel: "step",
      yLabel: "loss",
    }),
    path,
  );
  return path;
}

/** Attention strips for `count` samples spread over the data; returns the files written. */
export function writeAttentionPictures(
  runDir: string,
  backbone: VisionTransformer,
  source: ImageSource,
  count = 3,
): string[] {
  const directory = join(runDir, "pictures");
  mkdirSync(directory, { recursive: true });
  backbone.eval();
  const size = backbone.config.imageSize;
  const written: string[] = [];
  for (let i = 0; i < count; i++) {
    const index = Math.floor(((i + 0.5) * source.size) / count);
    const picture = source.picture(index);
    scope(() => {
      const image = tensor(picture.data, { shape: [1, picture.height, picture.width, 3] })
        .permute(0, 3, 1, 2)
        .float()
        .div(255);
      // Patch-aligned size near the training resolution, keeping the frame's aspect ratio.
      const patch = backbone.config.patchSize;
      const height = Math.max(patch, Math.round(size / patch) * patch);
      const width = Math.max(patch, Math.round((size * picture.width) / picture.height / patch) * patch);
      const resized = F.interpolate(image, { size: [height, width], mode: "bilinear" });
      const maps = clsAttentionMaps(backbone, normalizeImages(resized).to(backbone.posEmbed.device));
      const display = resized.mul(255).round().clamp(0, 255).to("uint8").permute(0, 2, 3, 1).contiguous();
      const path = join(directory, `attention-${index}.png`);
      writePng(
        path,
        attentionStrip(
          display.data() as Uint8Array,
          width,
          height,
          maps.cpu(),
          Math.max(1, Math.round(192 / height)),
        ),
      );
      written.push(path);
    });
  }
  return written;
}
