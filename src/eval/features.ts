// Frozen [CLS] features of a labelled image set, computed batch by batch without gradients.
import { normalizeImages } from "../augment/photometric.ts";
import { cat, keep, noGrad, scope, type Tensor } from "../torch/index.ts";
import type { Encoder } from "./encoder.ts";

/** [count, D] features on the CPU; `load(start, n)` gives images [n, 3, H, W] in [0, 1]. */
export function clsFeatures(
  encoder: Encoder,
  count: number,
  batchSize: number,
  load: (start: number, n: number) => Tensor,
): Tensor {
  const chunks: Tensor[] = [];
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    chunks.push(
      noGrad(() =>
        scope(() => {
          const images = load(start, n).to(encoder.device);
          const { cls, patchTokens } = encoder.backbone.forward(normalizeImages(images));
          patchTokens.dispose();
          return keep(cls.cpu());
        }),
      ),
    );
  }
  const features = cat(chunks, 0);
  for (const chunk of chunks) chunk.dispose();
  return features;
}
