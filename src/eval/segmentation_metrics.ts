// Semantic segmentation scores from a confusion matrix: per-class IoU, their mean over
// the classes that occur (in the truth or the prediction), and pixel accuracy.
import { InputError } from "../errors.ts";

export const ignoreLabel = 255;

export class ConfusionMatrix {
  /** counts[truth * classes + predicted]. */
  readonly counts: Float64Array;

  constructor(readonly classes: number) {
    this.counts = new Float64Array(classes * classes);
  }

  /** Adds one label map and its prediction (same length); `ignoreLabel` pixels are skipped. */
  add(truth: ArrayLike<number>, predicted: ArrayLike<number>): void {
    if (truth.length !== predicted.length) {
      throw new InputError(`a prediction has ${predicted.length} pixels, its labels ${truth.length}`);
    }
    for (let i = 0; i < truth.length; i++) {
      const t = truth[i];
      if (t === ignoreLabel) continue;
      if (t >= this.classes) throw new InputError(`label ${t} is outside the ${this.classes} classes`);
      this.counts[t * this.classes + predicted[i]]++;
    }
  }

  /** IoU per class; NaN for a class absent from both truth and prediction. */
  intersectionOverUnion(): number[] {
    const { classes, counts } = this;
    return Array.from({ length: classes }, (_, c) => {
      let truth = 0;
      let predicted = 0;
      for (let other = 0; other < classes; other++) {
        truth += counts[c * classes + other];
        predicted += counts[other * classes + c];
      }
      const hit = counts[c * classes + c];
      const union = truth + predicted - hit;
      return union === 0 ? Number.NaN : hit / union;
    });
  }

  meanIou(): number {
    const present = this.intersectionOverUnion().filter((iou) => !Number.isNaN(iou));
    return present.reduce((sum, iou) => sum + iou, 0) / present.length;
  }

  pixelAccuracy(): number {
    let hits = 0;
    let total = 0;
    for (let c = 0; c < this.classes; c++) hits += this.counts[c * this.classes + c];
    for (const count of this.counts) total += count;
    return hits / total;
  }
}
