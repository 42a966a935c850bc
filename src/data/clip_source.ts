// Training samples that are whole clips (DoRA): sample i is clip i of a video's frame
// cache, and a batch holds every frame of each chosen clip, clip by clip, in time order.
import type { Device, Tensor } from "../torch/index.ts";
import { epochOrder } from "../util/random.ts";
import type { FrameCache } from "../video/frame_cache.ts";
import { type ImageSource, type RgbImage, rgbBatch } from "./frame_source.ts";

export class ClipSource implements ImageSource {
  constructor(
    readonly cache: FrameCache,
    readonly seed: number,
  ) {}

  get size(): number {
    return this.cache.clipCount;
  }

  get clipLength(): number {
    return this.cache.clipLength;
  }

  order(epoch: number): number[] {
    return epochOrder(this.size, this.seed, epoch);
  }

  /** [clips * T, 3, H, W]: frame t of the i-th chosen clip is row i * T + t. */
  batch(indices: number[], device: Device): Tensor {
    const { width, height, frameBytes, clipLength } = this.cache;
    const clipBytes = frameBytes * clipLength;
    const bytes = new Uint8Array(indices.length * clipBytes);
    indices.forEach((clip, position) => bytes.set(this.cache.readClip(clip), position * clipBytes));
    return rgbBatch(bytes, indices.length * clipLength, height, width, device);
  }

  /** The first frame of a clip. */
  picture(index: number): RgbImage {
    const { width, height, frameBytes } = this.cache;
    return { width, height, data: this.cache.readClip(index).slice(0, frameBytes) };
  }

  close(): void {
    this.cache.close();
  }
}
