// What a run learns from, opened from its config: a video's frames (decoded once into the
// frame store), its whole clips (DoRA), an image folder, or a bundled image set.
import { ClipSource } from "../data/clip_source.ts";
import { FashionMnistSource } from "../data/fashion_mnist_source.ts";
import { FrameSource, type ImageSource } from "../data/frame_source.ts";
import { ImageFolderSource } from "../data/image_folder.ts";
import { UsageError } from "../errors.ts";
import type { sharedOptions } from "../train/config.ts";
import type { ClipSampling } from "../video/clips.ts";
import { Progress } from "../util/progress.ts";
import { FrameStore } from "../video/frame_store.ts";
import type { z } from "zod";

type SourceOptions = Pick<
  z.output<z.ZodObject<typeof sharedOptions>>,
  "video" | "images" | "dataset" | "imageSize" | "frameShortSide" | "seed" | "cacheDir"
> &
  ClipSampling;

/**
 * The short side frames are stored at: that of DoRA's first, clip-wide crop (300 pixels for
 * 224-pixel views), so that a crop of the whole frame needs no upsampling. Smaller crops are
 * upsampled from it; a larger side keeps more detail and takes more disk (bytes per frame grow
 * with its square: 0.48 MB a 16:9 frame at 300, 78 GB for 1.5 hours at 30 fps).
 */
export function defaultFrameShortSide(imageSize: number): number {
  return Math.round((imageSize * 300) / 224);
}

/** Refuses a config that names nothing to learn from, before any work starts. */
export function requireSource(config: SourceOptions): void {
  if (config.video === undefined && config.images === undefined && config.dataset === undefined) {
    throw new UsageError(
      "give the footage to learn from: --video <file> (or --images <folder>, --dataset fashion-mnist)",
    );
  }
}

/** The training samples: a video's stored frames (whole clips when `wholeClips`), or images. */
export async function openSource(config: SourceOptions, wholeClips: boolean): Promise<ImageSource> {
  const side = config.frameShortSide ?? defaultFrameShortSide(config.imageSize);
  if (config.dataset === "fashion-mnist") return new FashionMnistSource(side, config.seed);
  if (config.images !== undefined) {
    return ImageFolderSource.open(config.images, { side, seed: config.seed, cacheRoot: config.cacheDir });
  }
  let progress: Progress | null = null;
  const store = await FrameStore.open(config.video!, {
    shortSide: side,
    sampling: {
      clipLength: config.clipLength,
      frameStride: config.frameStride,
      clipSpacing: config.clipSpacing,
    },
    cacheRoot: config.cacheDir,
    onPlan: (plan) => {
      const gigabytes = (bytes: number) => `${(bytes / 1e9).toFixed(2)} GB`;
      process.stderr.write(
        `decoding ${plan.frames} frames of ${plan.width}x${plan.height} (${gigabytes(plan.bytes)}) into the frame store ${plan.directory}; ${gigabytes(plan.freeBytes)} free there\n`,
      );
      progress = new Progress(plan.frames, "frames");
    },
    onProgress: (done, total) => {
      if (done % 64 === 0 || done === total) progress?.update(done, "decoding", 0, done === total);
      if (done === total) progress?.finish();
    },
  });
  return wholeClips ? new ClipSource(store, config.seed) : new FrameSource(store, config.seed);
}
