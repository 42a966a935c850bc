// The discovery score: how well the objects an encoder discovers and follows match a video's
// exact instance masks. For each ground-truth object in each frame (ids 1..254; 0 is the
// background, 255 void), the best IoU among the discovered masks of that frame; the score is
// their mean over objects and frames, with the share of objects found at IoU > 0.5.
import type { IndexMask } from "../data/davis.ts";
import { voidLabel } from "../data/davis.ts";

/** The best IoU of each object in `truth` (ascending id) among `masks` (0/1 bytes, truth's size). */
export function bestMatches(truth: IndexMask, masks: readonly Uint8Array[]): number[] {
  const ids = [...new Set(truth.data)].filter((id) => id !== 0 && id !== voidLabel).sort((a, b) => a - b);
  return ids.map((id) => {
    let best = 0;
    for (const mask of masks) {
      let intersection = 0;
      let union = 0;
      for (let i = 0; i < truth.data.length; i++) {
        const inObject = truth.data[i] === id;
        const inMask = mask[i] !== 0;
        if (inObject && inMask) intersection++;
        if (inObject || inMask) union++;
      }
      best = Math.max(best, intersection / union);
    }
    return best;
  });
}

export interface DiscoverySummary {
  /** Mean over (object, frame) of the best IoU. */
  meanIou: number;
  /** Share of (object, frame) pairs whose best IoU is above 0.5. */
  found: number;
  /** How many (object, frame) pairs were scored. */
  objects: number;
}

export function summarizeDiscovery(bestIous: readonly number[]): DiscoverySummary {
  const objects = bestIous.length;
  if (objects === 0) return { meanIou: 0, found: 0, objects };
  const mean = bestIous.reduce((sum, iou) => sum + iou, 0) / objects;
  const found = bestIous.filter((iou) => iou > 0.5).length / objects;
  return { meanIou: +mean.toFixed(4), found: +found.toFixed(4), objects };
}
