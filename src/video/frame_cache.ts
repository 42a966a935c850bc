// An on-disk store of the clip frames a run trains on, decoded once at training
// resolution by parallel ffmpeg workers and reused across epochs and runs. It is keyed
// by the video (path, size, modification time), the frame size and the clip sampling.
import { createHash } from "node:crypto";
import { closeSync, existsSync, openSync, readFileSync, readSync, realpathSync, statSync } from "node:fs";
import { availableParallelism, homedir } from "node:os";
import { join } from "node:path";
import { type ClipSampling, clipFrames, clipSelectExpression, clipSpan, clipStarts } from "./clips.ts";
import { buildCacheDirectory } from "../util/cache_folder.ts";
import { decodeFrames, scaledSize } from "./decode.ts";
import { InputError, requireFile } from "../errors.ts";
import { probeVideo, type VideoInfo } from "./probe.ts";

export interface FrameCacheOptions {
  /** Length of the frames' short side in pixels; the aspect ratio is kept. */
  shortSide: number;
  sampling: ClipSampling;
  /** Folder of caches; default $ONEVIDEO_CACHE or ~/.cache/onevideo/frames. */
  cacheRoot?: string;
  /** Parallel decode workers; default the core count. */
  workers?: number;
  onProgress?: (clipsDone: number, clipsTotal: number) => void;
}

interface CacheMeta {
  video: string;
  width: number;
  height: number;
  fps: number;
  sampling: ClipSampling;
  clipStarts: number[];
}

export function defaultCacheRoot(): string {
  return process.env.ONEVIDEO_CACHE ?? join(homedir(), ".cache", "onevideo", "frames");
}

/** Clips of a video as uint8 RGB frames on disk: clip i is clipLength frames of height x width x 3. */
export class FrameCache {
  readonly frameBytes: number;

  private constructor(
    readonly directory: string,
    readonly meta: CacheMeta,
    private readonly fd: number,
  ) {
    this.frameBytes = meta.width * meta.height * 3;
  }

  get clipCount(): number {
    return this.meta.clipStarts.length;
  }

  get width(): number {
    return this.meta.width;
  }

  get height(): number {
    return this.meta.height;
  }

  get clipLength(): number {
    return this.meta.sampling.clipLength;
  }

  /** The frames of one clip, [clipLength, height, width, 3] bytes. */
  readClip(index: number): Uint8Array {
    if (!Number.isInteger(index) || index < 0 || index >= this.clipCount) {
      throw new RangeError(`clip ${index} does not exist (the cache holds ${this.clipCount})`);
    }
    const bytes = this.clipLength * this.frameBytes;
    const clip = new Uint8Array(bytes);
    const read = readSync(this.fd, clip, 0, bytes, index * bytes);
    if (read !== bytes) throw new Error(`frame cache ${this.directory} is truncated; delete it to rebuild`);
    return clip;
  }

  close(): void {
    closeSync(this.fd);
  }

  /** Opens the cache for this video, size and sampling, decoding it first if needed. */
  static async open(video: string, options: FrameCacheOptions): Promise<FrameCache> {
    requireFile(video, "video");
    const root = options.cacheRoot ?? defaultCacheRoot();
    const stats = statSync(video);
    const key = createHash("sha256")
      .update(
        JSON.stringify({
          video: realpathSync(video),
          bytes: stats.size,
          modified: stats.mtimeMs,
          shortSide: options.shortSide,
          sampling: options.sampling,
        }),
      )
      .digest("hex")
      .slice(0, 24);
    const directory = join(root, key);
    // Probed only to build: a cached video opens without ffmpeg (a GPU server may have none).
    if (!existsSync(join(directory, "meta.json"))) await build(await probeVideo(video), directory, options);
    const meta = JSON.parse(readFileSync(join(directory, "meta.json"), "utf8")) as CacheMeta;
    return new FrameCache(directory, meta, openSync(join(directory, "clips.u8"), "r"));
  }
}

async function build(info: VideoInfo, directory: string, options: FrameCacheOptions): Promise<void> {
  const { sampling } = options;
  const starts = clipStarts(info.frameCount, sampling, info.path);
  const { width, height } = scaledSize(info.width, info.height, options.shortSide);
  const frameBytes = width * height * 3;
  const clipBytes = sampling.clipLength * frameBytes;
  await buildCacheDirectory(directory, "clips.u8", "frame cache", async (file) => {
    const workers = Math.max(1, Math.min(options.workers ?? availableParallelism(), starts.length));
    let done = 0;
    const completed: number[] = [];
    await Promise.all(
      Array.from({ length: workers }, async (_, worker) => {
        const first = Math.floor((worker * starts.length) / workers);
        const last = Math.floor(((worker + 1) * starts.length) / workers);
        completed[worker] = await decodeRange(info, starts.slice(first, last), first, {
          width,
          height,
          sampling,
          write: (bytes, offset) => file.write(bytes, 0, bytes.length, offset).then(() => undefined),
          clipBytes,
          frameBytes,
          onClip: () => options.onProgress?.(++done, starts.length),
        });
      }),
    );
    // A range falls short only where the video ends before its header said; the clips
    // before the first gap are kept.
    let usable = 0;
    for (let worker = 0; worker < workers; worker++) {
      const first = Math.floor((worker * starts.length) / workers);
      const size = Math.floor(((worker + 1) * starts.length) / workers) - first;
      usable = first + completed[worker];
      if (completed[worker] < size) break;
    }
    if (usable === 0) throw new InputError(`${info.path} has no decodable video frames`);
    const meta: CacheMeta = {
      video: info.path,
      width,
      height,
      fps: info.fps,
      sampling,
      clipStarts: starts.slice(0, usable),
    };
    return meta;
  });
}

interface RangeTarget {
  width: number;
  height: number;
  sampling: ClipSampling;
  clipBytes: number;
  frameBytes: number;
  write: (bytes: Uint8Array, offset: number) => Promise<void>;
  onClip: () => void;
}

/** Decodes the clips starting at `starts` (cache slots from firstClip on); returns how many were complete. */
async function decodeRange(
  info: VideoInfo,
  starts: number[],
  firstClip: number,
  target: RangeTarget,
): Promise<number> {
  if (starts.length === 0) return 0;
  const { sampling } = target;
  // Where each needed frame goes: frame index -> [clip slot, position in clip].
  const destinations = new Map<number, [number, number][]>();
  starts.forEach((start, clip) =>
    clipFrames(start, sampling).forEach((frame, position) => {
      const list = destinations.get(frame) ?? [];
      list.push([firstClip + clip, position]);
      destinations.set(frame, list);
    }),
  );
  const needed = [...destinations.keys()].sort((a, b) => a - b);
  // Non-overlapping clips let ffmpeg drop unused frames before scaling them.
  const selective = sampling.clipSpacing >= clipSpan(sampling);
  const origin = starts[0];
  const lastFrame = needed[needed.length - 1];
  let index = 0;
  let frameNumber = origin;
  const filled = new Map<number, number>();
  for await (const frame of decodeFrames(info.path, {
    width: target.width,
    height: target.height,
    fps: info.fps,
    startFrame: origin,
    frameCount: selective ? needed.length : lastFrame - origin + 1,
    select: selective ? clipSelectExpression(sampling) : undefined,
  })) {
    const current = selective ? needed[index++] : frameNumber++;
    for (const [clip, position] of destinations.get(current) ?? []) {
      await target.write(frame, clip * target.clipBytes + position * target.frameBytes);
      const count = (filled.get(clip) ?? 0) + 1;
      filled.set(clip, count);
      if (count === sampling.clipLength) target.onClip();
    }
  }
  // Clips are filled in order, so the complete ones are a prefix of the range.
  let prefix = 0;
  while (prefix < starts.length && filled.get(firstClip + prefix) === sampling.clipLength) prefix++;
  return prefix;
}
