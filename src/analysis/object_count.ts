// Objects per frame, as DoRA's teacher finds them: every attention head of the encoder's
// last block discovers one object in the frame (its [CLS] attention weights the patch
// queries into a prototype, Sinkhorn-Knopp refines the prototypes against the patch
// features, and each prototype's cross-attention with the frame's keys, thresholded at its
// mean, is its mask); the count is how many of those masks are distinct objects
// (distinct_objects.ts). A frame has between 1 and as many objects as the encoder has heads.
import { normalizeImages } from "../augment/photometric.ts";
import { rgbBatch } from "../data/frame_source.ts";
import { type Encoder, patchAlignedSize } from "../eval/encoder.ts";
import { discoverInClips } from "../discovery/clip_discovery.ts";
import { F, noGrad, scope, type Tensor } from "../torch/index.ts";
import { distinctObjectCount } from "./distinct_objects.ts";

/** Counts objects in RGB frames; what the analysis needs to know of an encoder. */
export interface ObjectCounter {
  /** Objects in each frame (width x height x 3 bytes, all the same size). */
  count(frames: Uint8Array[], width: number, height: number): number[];
  /** Short side of the frames the encoder sees. */
  inputShortSide: number;
}

/** Frames [B, 3, h, w] at height x width: averaged over areas when shrinking (no aliasing), bilinear when enlarging. */
function resize(frames: Tensor, height: number, width: number): Tensor {
  if (frames.size(2) === height && frames.size(3) === width) return frames;
  const shrinking = height <= frames.size(2) && width <= frames.size(3);
  return F.interpolate(frames, { size: [height, width], mode: shrinking ? "area" : "bilinear" });
}

/**
 * Objects in each frame of a batch [B, 3, h, w] (RGB in [0, 1]), seen by the encoder at
 * `inputSize` (both sides multiples of its patch size).
 */
export function countObjects(
  encoder: Encoder,
  frames: Tensor,
  inputSize: { width: number; height: number },
): number[] {
  return noGrad(() =>
    scope(() => {
      const { backbone, patchSize } = encoder;
      const heads = Array.from({ length: backbone.config.numHeads }, (_, head) => head);
      const batch = frames.size(0);
      const view = normalizeImages(resize(frames, inputSize.height, inputSize.width));
      // Each frame is a clip of one: its objects are discovered and "tracked" in itself.
      const { masks } = discoverInClips(backbone, view, batch, heads, {
        attentionBlock: -1,
        sinkhornIterations: 30,
        sinkhornEpsilon: 0.05,
        threshold: "map", // each frame on its own, whatever else shares the batch
      });
      // [B, 1, k, H, W] pixel masks are patch masks enlarged: one pixel per patch is enough.
      const onGrid = masks.slice(3, 0, null, patchSize).slice(4, 0, null, patchSize).contiguous();
      const patches = onGrid.size(3) * onGrid.size(4);
      const values = onGrid.cpu().toArray();
      return Array.from({ length: batch }, (_, frame) =>
        distinctObjectCount(
          heads.map((head) => {
            const start = (frame * heads.length + head) * patches;
            return values.slice(start, start + patches);
          }),
        ),
      );
    }),
  );
}

/** An ObjectCounter over an encoder that sees frames with short side `inputShortSide`. */
export function encoderObjectCounter(encoder: Encoder, inputShortSide: number): ObjectCounter {
  return {
    inputShortSide,
    count(frames, width, height) {
      const bytes = new Uint8Array(frames.length * width * height * 3);
      frames.forEach((frame, i) => bytes.set(frame, i * frame.length));
      using batch = rgbBatch(bytes, frames.length, height, width, encoder.device);
      return countObjects(encoder, batch, patchAlignedSize(width, height, inputShortSide, encoder.patchSize));
    },
  };
}
