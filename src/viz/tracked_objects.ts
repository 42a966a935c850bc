// What DoRA's teacher discovers and follows in a clip (the paper's Figure 3): each
// object's mask blended over every frame in its own DAVIS palette colour.
import { normalizeImages } from "../augment/photometric.ts";
import { davisPalette } from "../data/davis.ts";
import { rgbBatch } from "../data/frame_source.ts";
import { type DiscoveryOptions, discoverInClips } from "../discovery/clip_discovery.ts";
import type { VisionTransformer } from "../models/vit.ts";
import { noGrad, scope } from "../torch/index.ts";
import type { Image8 } from "../image/png.ts";

/** The frame with each object's mask (one 0/1 value per pixel) blended in its colour. */
function overlay(frame: Uint8Array, masks: ArrayLike<number>[], pixels: number): Uint8Array {
  const palette = davisPalette();
  const out = Uint8Array.from(frame);
  masks.forEach((mask, object) => {
    const colour = palette[object + 1];
    for (let i = 0; i < pixels; i++) {
      if (mask[i] === 0) continue;
      for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round(0.45 * out[i * 3 + c] + 0.55 * colour[c]);
    }
  });
  return out;
}

/**
 * Discovers objects with `heads` in the first of `frames` (RGB bytes, each width x height,
 * patch-aligned) and tracks them through the rest; returns one overlaid frame per input frame.
 */
export function trackedObjectFrames(
  backbone: VisionTransformer,
  frames: Uint8Array[],
  width: number,
  height: number,
  heads: number[],
  options: DiscoveryOptions,
): Image8[] {
  const bytes = new Uint8Array(frames.length * width * height * 3);
  frames.forEach((frame, t) => bytes.set(frame, t * frame.length));
  const values = noGrad(() =>
    scope(() => {
      const images = rgbBatch(bytes, frames.length, height, width, backbone.posEmbed.device);
      const { masks, cls } = discoverInClips(backbone, normalizeImages(images), 1, heads, options);
      cls.dispose();
      return masks.cpu().toArray(); // [1, T, k, H, W]
    }),
  );
  const pixels = width * height;
  return frames.map((frame, t) => {
    const perObject = heads.map((_, k) =>
      values.slice((t * heads.length + k) * pixels, (t * heads.length + k + 1) * pixels),
    );
    return { width, height, channels: 3, data: overlay(frame, perObject, pixels) };
  });
}

/** RGB images of one size side by side, each enlarged by `zoom`, with a 2-pixel gap. */
export function tileRow(images: Image8[], zoom = 1): Image8 {
  const gap = 2;
  const tileWidth = images[0].width * zoom;
  const height = images[0].height * zoom;
  const width = images.length * (tileWidth + gap) - gap;
  const data = new Uint8Array(width * height * 3).fill(255);
  images.forEach((image, index) => {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < tileWidth; x++) {
        const from = (Math.floor(y / zoom) * image.width + Math.floor(x / zoom)) * 3;
        const to = (y * width + index * (tileWidth + gap) + x) * 3;
        data.set(image.data.subarray(from, from + 3), to);
      }
    }
  });
  return { width, height, channels: 3, data };
}
