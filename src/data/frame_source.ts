// Training samples from a video's frame store: every stored frame is a sample, visited in a
// seeded order that changes each epoch.
import { type Device, type Tensor, tensor } from "../torch/index.ts";
import { epochOrder } from "../util/random.ts";
import type { FrameStore } from "../video/frame_store.ts";

export interface ImageSource {
  /** Samples in one epoch. */
  readonly size: number;
  /** The order of epoch `epoch`'s samples. */
  order(epoch: number): number[];
  /** Samples as a [B, 3, H, W] float batch in [0, 1] on the device. */
  batch(indices: number[], device: Device): Tensor;
  /** One sample as RGB bytes, for pictures. */
  picture(index: number): RgbImage;
  close(): void;
}

export interface RgbImage {
  width: number;
  height: number;
  /** height x width x 3 bytes. */
  data: Uint8Array;
}

export class FrameSource implements ImageSource {
  constructor(
    readonly store: FrameStore,
    readonly seed: number,
  ) {}

  /** Every stored frame once (frames that several clips share are not repeated). */
  get size(): number {
    return this.store.frameCount;
  }

  order(epoch: number): number[] {
    return epochOrder(this.size, this.seed, epoch);
  }

  picture(index: number): RgbImage {
    const { width, height } = this.store;
    return { width, height, data: this.store.readSlots([index]) };
  }

  close(): void {
    this.store.close();
  }

  batch(indices: number[], device: Device): Tensor {
    const { width, height } = this.store;
    return rgbBatch(this.store.readSlots(indices), indices.length, height, width, device);
  }
}

/** count x height x width x 3 bytes as a [count, 3, height, width] float batch in [0, 1] on the device. */
export function rgbBatch(
  bytes: Uint8Array,
  count: number,
  height: number,
  width: number,
  device: Device,
): Tensor {
  using raw = tensor(bytes, { shape: [count, height, width, 3] });
  // To a GPU the bytes go as uint8 (a quarter of the floats) from pinned memory.
  using pinned = device === "cpu" ? raw.view(count, height, width, 3) : raw.pinMemory();
  using moved = pinned.to(device, { nonBlocking: device !== "cpu" });
  using channelsFirst = moved.permute(0, 3, 1, 2);
  using floats = channelsFirst.float();
  return floats.div(255);
}
