// Fashion-MNIST's training images as a training source (the "ImageNet" of the one-video
// experiment): every image is a sample, upscaled to the run's frame size on the fly.
import type { Device, Tensor } from "../torch/index.ts";
import { epochOrder } from "../util/random.ts";
import { fashionMnistBatch, fashionMnistSide, loadFashionMnist, type FashionMnist } from "./fashion_mnist.ts";
import type { ImageSource, RgbImage } from "./frame_source.ts";

export class FashionMnistSource implements ImageSource {
  private readonly set: FashionMnist;

  constructor(
    readonly side: number,
    readonly seed: number,
  ) {
    this.set = loadFashionMnist("train");
  }

  get size(): number {
    return this.set.count;
  }

  order(epoch: number): number[] {
    return epochOrder(this.size, this.seed, epoch);
  }

  batch(indices: number[], device: Device): Tensor {
    const pixels = fashionMnistSide * fashionMnistSide;
    const images = new Uint8Array(indices.length * pixels);
    indices.forEach((index, i) =>
      images.set(this.set.images.subarray(index * pixels, (index + 1) * pixels), i * pixels),
    );
    const gathered = { ...this.set, images, count: indices.length };
    return fashionMnistBatch(gathered, 0, indices.length, this.side, device);
  }

  picture(index: number): RgbImage {
    using batch = this.batch([index], "cpu");
    using bytes = batch.mul(255).round().to("uint8").permute(0, 2, 3, 1).contiguous();
    return { width: this.side, height: this.side, data: Uint8Array.from(bytes.toArray()) };
  }

  close(): void {}
}
