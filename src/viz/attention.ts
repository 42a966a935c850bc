// What a ViT looks at: the [CLS] token's attention over the patches, per head
// (DINO's figure), drawn beside the image.
import type { VisionTransformer } from "../models/vit.ts";
import { noGrad, type Tensor } from "../torch/index.ts";
import { viridis } from "./colormap.ts";
import type { Image8 } from "../image/png.ts";

/** [heads, rows, cols] attention of [CLS] to each patch in the chosen block, for one image [1, 3, H, W]. */
export function clsAttentionMaps(backbone: VisionTransformer, image: Tensor, block = -1): Tensor {
  return noGrad(() => {
    const [, , height, width] = image.shape;
    const patch = backbone.config.patchSize;
    const { cls, patchTokens, captured } = backbone.forward(image, { captureBlock: block });
    cls.dispose();
    patchTokens.dispose();
    const { attention, queries, keys } = captured!;
    queries.dispose();
    keys.dispose();
    using fromCls = attention.select(0, 0).select(1, 0); // [heads, tokens]
    using toPatches = fromCls.slice(1, 1, null);
    attention.dispose();
    return toPatches.reshape(fromCls.size(0), Math.floor(height / patch), Math.floor(width / patch));
  });
}

/**
 * A strip of tiles: the RGB image, then each head's map in viridis (each scaled to its
 * own range), every tile enlarged by `zoom` so that small training images stay visible.
 */
export function attentionStrip(
  source: Uint8Array,
  sourceWidth: number,
  sourceHeight: number,
  maps: Tensor,
  zoom = 1,
): Image8 {
  const [width, height] = [sourceWidth * zoom, sourceHeight * zoom];
  const image = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (Math.floor(y / zoom) * sourceWidth + Math.floor(x / zoom)) * 3;
      image.set(source.subarray(from, from + 3), (y * width + x) * 3);
    }
  }
  const [heads, rows, cols] = maps.shape;
  const values = maps.toArray();
  const gap = 4;
  const stripWidth = width * (heads + 1) + gap * heads;
  const data = new Uint8Array(stripWidth * height * 3).fill(255);
  for (let y = 0; y < height; y++)
    data.set(image.subarray(y * width * 3, (y + 1) * width * 3), y * stripWidth * 3);
  for (let head = 0; head < heads; head++) {
    const map = values.slice(head * rows * cols, (head + 1) * rows * cols);
    const [low, high] = [Math.min(...map), Math.max(...map)];
    const left = (head + 1) * (width + gap);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const value =
          map[
            Math.min(rows - 1, Math.floor((y * rows) / height)) * cols +
              Math.min(cols - 1, Math.floor((x * cols) / width))
          ];
        const color = viridis((value - low) / (high - low || 1));
        data.set(color, (y * stripWidth + left + x) * 3);
      }
    }
  }
  return { width: stripWidth, height, channels: 3, data };
}
