// Frozen patch tokens of RGB frames, as the dense evaluations (label propagation, the dense
// probe) read them off an encoder: the frames at the size given, normalised as in training.
import { normalizeImages } from "../augment/photometric.ts";
import type { RgbImage } from "../data/frame_source.ts";
import { noGrad, scope, type Tensor, tensor } from "../torch/index.ts";
import { InputError } from "../errors.ts";
import type { DenseFeatures } from "./dense_features.ts";

/** Feature cells [n, rows * cols, D] on the CPU of frames that share one size, in one forward pass. */
export function patchTokens(encoder: DenseFeatures, frames: readonly RgbImage[]): Tensor {
  const { width, height } = frames[0];
  const frameBytes = width * height * 3;
  const bytes = new Uint8Array(frames.length * frameBytes);
  frames.forEach((frame, index) => {
    if (frame.width !== width || frame.height !== height) {
      throw new InputError(`frames of ${frame.width}x${frame.height} and ${width}x${height} in one batch`);
    }
    bytes.set(frame.data, index * frameBytes);
  });
  return noGrad(() =>
    scope(() => {
      const images = tensor(bytes, { shape: [frames.length, height, width, 3] })
        .to(encoder.device)
        .permute(0, 3, 1, 2)
        .float()
        .div(255);
      return encoder.cells(normalizeImages(images)).cpu();
    }),
  );
}
