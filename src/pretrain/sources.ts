// What a run learns from, opened from its config: a video's frames (decoded once into the
// frame cache), its whole clips (DoRA), an image folder, or a bundled image set.
import { ClipSource } from "../data/clip_source.ts";
import { FashionMnistSource } from "../data/fashion_mnist_source.ts";
import { FrameSource, type ImageSource } from "../data/frame_source.ts";
import { ImageFolderSource } from "../data/image_folder.ts";
import { InputError } from "../errors.ts";
import type { sharedOptions } from "../train/config.ts";
import type { ClipSampling } from "../video/clips.ts";
import { FrameCache } from "../video/frame_cache.ts";
import type { z } from "zod";

type SourceOptions = Pick<
  z.output<z.ZodObject<typeof sharedOptions>>,
  "video" | "images" | "dataset" | "imageSize" | "frameShortSide" | "seed" | "cacheDir"
> &
  ClipSampling;

/** Refuses a config that names nothing to learn from, before any work starts. */
export function requireSource(config: SourceOptions): void {
  if (config.video === undefined && config.images === undefined && config.dataset === undefined) {
    throw new InputError(
      "give the footage to learn from: --video <file> (or --images <folder>, --dataset fashion-mnist)",
    );
  }
}

/** The training samples: a video's cached frames (whole clips when `wholeClips`), or images. */
export async function openSource(config: SourceOptions, wholeClips: boolean): Promise<ImageSource> {
  const side = config.frameShortSide ?? Math.round(config.imageSize * 1.15);
  if (config.dataset === "fashion-mnist") return new FashionMnistSource(side, config.seed);
  if (config.images !== undefined) {
    return ImageFolderSource.open(config.images, { side, seed: config.seed, cacheRoot: config.cacheDir });
  }
  const cache = await FrameCache.open(config.video!, {
    shortSide: side,
    sampling: {
      clipLength: config.clipLength,
      frameStride: config.frameStride,
      clipSpacing: config.clipSpacing,
    },
    cacheRoot: config.cacheDir,
    onProgress: (done, total) => {
      if (process.stderr.isTTY)
        process.stderr.write(`\r\x1b[Kdecoding clips ${done}/${total}${done === total ? "\n" : ""}`);
    },
  });
  return wholeClips ? new ClipSource(cache, config.seed) : new FrameSource(cache, config.seed);
}
