// Image folders in the ImageFolder layout (root/<class>/<image>), decoded once by
// parallel ffmpeg workers to square images at training resolution and cached on disk,
// so image-pretraining baselines run through the same code as videos.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { extname, join, resolve } from "node:path";
import { promisify } from "node:util";
import type { Device, Tensor } from "../torch/index.ts";
import { epochOrder } from "../util/random.ts";
import { defaultCacheRoot } from "../video/frame_store.ts";
import { InputError } from "../errors.ts";
import { buildCacheDirectory } from "../util/cache_folder.ts";
import { type ImageSource, type RgbImage, rgbBatch } from "./frame_source.ts";

const run = promisify(execFile);
const imageExtensions = new Set([".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".ppm", ".pgm"]);

export interface ImageFolderListing {
  classes: string[];
  files: string[];
  labels: number[];
}

export function listImageFolder(root: string): ImageFolderListing {
  if (!existsSync(root)) throw new InputError(`image folder not found: ${root}`);
  if (!statSync(root).isDirectory()) {
    throw new InputError(`${root} is a file, not a folder: give a folder of class subfolders of images`);
  }
  const classes = readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const files: string[] = [];
  const labels: number[] = [];
  classes.forEach((name, label) => {
    for (const file of readdirSync(join(root, name)).sort()) {
      if (imageExtensions.has(extname(file).toLowerCase())) {
        files.push(join(root, name, file));
        labels.push(label);
      }
    }
  });
  if (files.length === 0) {
    throw new InputError(
      `${root} holds no images in the ImageFolder layout (<root>/<class>/<image>.jpg|png)`,
    );
  }
  return { classes, files, labels };
}

export class ImageFolderSource implements ImageSource {
  private constructor(
    readonly listing: ImageFolderListing,
    readonly side: number,
    private readonly fd: number,
    readonly seed: number,
  ) {}

  get size(): number {
    return this.listing.files.length;
  }

  order(epoch: number): number[] {
    return epochOrder(this.size, this.seed, epoch);
  }

  batch(indices: number[], device: Device): Tensor {
    const imageBytes = this.side * this.side * 3;
    const bytes = new Uint8Array(indices.length * imageBytes);
    indices.forEach((index, position) => {
      const read = readSync(this.fd, bytes, position * imageBytes, imageBytes, index * imageBytes);
      if (read !== imageBytes) throw new Error("image cache is truncated; delete it to rebuild");
    });
    return rgbBatch(bytes, indices.length, this.side, this.side, device);
  }

  picture(index: number): RgbImage {
    const data = new Uint8Array(this.side * this.side * 3);
    readSync(this.fd, data, 0, data.length, index * data.length);
    return { width: this.side, height: this.side, data };
  }

  close(): void {
    closeSync(this.fd);
  }

  /** Opens (building if needed) the cache of a folder's images at side x side pixels. */
  static async open(
    root: string,
    options: { side: number; seed: number; cacheRoot?: string; workers?: number },
  ): Promise<ImageFolderSource> {
    const listing = listImageFolder(root);
    const key = createHash("sha256")
      .update(
        JSON.stringify({
          root: resolve(root),
          files: listing.files.map((f) => [f, statSync(f).mtimeMs]),
          side: options.side,
        }),
      )
      .digest("hex")
      .slice(0, 24);
    const directory = join(options.cacheRoot ?? defaultCacheRoot(), `images-${key}`);
    if (!existsSync(join(directory, "meta.json")))
      await build(listing, directory, options.side, options.workers);
    return new ImageFolderSource(
      listing,
      options.side,
      openSync(join(directory, "images.u8"), "r"),
      options.seed,
    );
  }
}

async function build(
  listing: ImageFolderListing,
  directory: string,
  side: number,
  workers?: number,
): Promise<void> {
  const imageBytes = side * side * 3;
  let next = 0;
  await buildCacheDirectory(directory, "images.u8", "image cache", async (file) => {
    // Resize the short side, then take the centre square.
    const filter = `scale=${side}:${side}:force_original_aspect_ratio=increase:flags=area,crop=${side}:${side},format=rgb24`;
    const worker = async () => {
      while (next < listing.files.length) {
        const index = next++;
        const path = listing.files[index];
        let stdout: Buffer;
        try {
          ({ stdout } = (await run(
            "ffmpeg",
            [
              "-v",
              "error",
              "-nostdin",
              "-i",
              path,
              "-frames:v",
              "1",
              "-vf",
              filter,
              "-f",
              "rawvideo",
              "pipe:1",
            ],
            { encoding: "buffer", maxBuffer: imageBytes * 2 },
          )) as unknown as { stdout: Buffer });
        } catch {
          throw new InputError(`${path} is not an image ffmpeg can read; remove it from the folder`);
        }
        if (stdout.length !== imageBytes) throw new InputError(`${path} did not decode to an image`);
        await file.write(stdout, 0, imageBytes, index * imageBytes);
      }
    };
    await Promise.all(Array.from({ length: workers ?? availableParallelism() }, worker));
    return { side, count: listing.files.length };
  });
}
