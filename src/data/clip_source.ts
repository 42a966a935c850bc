// Training samples that are whole clips (DoRA): sample i is clip i of a video's frame
// store, and a batch holds every frame of each chosen clip, clip by clip, in time order.
import type { Device, Tensor } from "../torch/index.ts";
import { epochOrder } from "../util/random.ts";
import type { FrameStore } from "../video/frame_store.ts";
import { type ImageSource, type RgbImage, rgbBatch } from "./frame_source.ts";

export class ClipSource implements ImageSource {
  constructor(
    readonly store: FrameStore,
    readonly seed: number,
  ) {}

  get size(): number {
    return this.store.clipCount;
  }

  get clipLength(): number {
    return this.store.clipLength;
  }

  order(epoch: number): number[] {
    return epochOrder(this.size, this.seed, epoch);
  }

  /** [clips * T, 3, H, W]: frame t of the i-th chosen clip is row i * T + t. */
  batch(indices: number[], device: Device): Tensor {
    const { width, height, clipLength } = this.store;
    const frames = indices.flatMap((clip) => this.store.clipFrameIndices(clip));
    return rgbBatch(this.store.readFrames(frames), indices.length * clipLength, height, width, device);
  }

  /** The first frame of a clip. */
  picture(index: number): RgbImage {
    const { width, height } = this.store;
    return { width, height, data: this.store.readFrames(this.store.clipFrameIndices(index).slice(0, 1)) };
  }

  close(): void {
    this.store.close();
  }
}
