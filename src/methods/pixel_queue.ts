// MoCo's dictionary for pixels: a first-in first-out queue of L2-normalised embeddings
// from the momentum encoder, the negatives of VADeR's pixel-level InfoNCE.
import { F, keep, noGrad, randn, type Device, type Tensor, tensor } from "../torch/index.ts";

export class PixelQueue {
  /** [length, dim] embeddings; row `pointer` is the next to be overwritten (the oldest). */
  readonly embeddings: Tensor;
  /** The write position, as a tensor so that checkpoints carry it. */
  readonly pointer: Tensor;

  constructor(
    readonly length: number,
    readonly dim: number,
    device: Device = "cpu",
  ) {
    // Random unit vectors until real keys arrive, as MoCo starts.
    this.embeddings = keep(noGrad(() => F.normalize(randn([length, dim]).to(device), 2, 1)));
    this.pointer = keep(tensor(0, { dtype: "int64", shape: [] }));
  }

  /** Overwrites the oldest rows with `keys` [count, dim] (wrapping around the end). */
  enqueue(keys: Tensor): void {
    const count = keys.size(0);
    if (count > this.length)
      throw new Error(`PixelQueue: ${count} keys exceed the queue length ${this.length}`);
    noGrad(() => {
      let start = Number(this.pointer.item());
      let written = 0;
      while (written < count) {
        const run = Math.min(count - written, this.length - start);
        using target = this.embeddings.narrow(0, start, run);
        using source = keys.narrow(0, written, run);
        target.copy_(source);
        written += run;
        start = (start + run) % this.length;
      }
      this.pointer.fill_(start);
    });
  }
}
