// An on-disk store of the frames a run trains on: every frame some clip uses, decoded once at
// the store's resolution and kept once, however many clips share it (with DoRA's sampling,
// every frame starts a clip and is used by eight). It is decoded by parallel ffmpeg workers
// in segments; a build that was killed picks up at the first segment it had not finished.
// Before decoding, the bytes it will take are set against the free space, and a store that
// cannot fit is one line naming the option that shrinks it. It is keyed by the video's content
// (its size, first and last MiB: a copy elsewhere finds it), the frame size and the sampling.
import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statfsSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { open } from "node:fs/promises";
import { availableParallelism, homedir } from "node:os";
import { join } from "node:path";
import { InputError, requireFile } from "../errors.ts";
import { writeFileAtomically } from "../util/atomic_file.ts";
import { type ClipSampling, clipFrames, clipStarts, usedFrames } from "./clips.ts";
import { decodeFrames, scaledSize } from "./decode.ts";
import { probeVideo, type VideoInfo } from "./probe.ts";

export interface FrameStoreOptions {
  /** Length of the frames' short side in pixels; the aspect ratio is kept. */
  shortSide: number;
  sampling: ClipSampling;
  /** Folder of stores; default $ONEVIDEO_CACHE or ~/.cache/onevideo/frames. */
  cacheRoot?: string;
  /** Parallel decode workers; default the core count. */
  workers?: number;
  /** Frames of video per decode segment (the unit a killed build resumes from). */
  segmentFrames?: number;
  /** Told of each stored frame, and once with what the build will take before it starts. */
  onProgress?: (framesDone: number, framesTotal: number) => void;
  onPlan?: (plan: StorePlan) => void;
}

/** What a build will store, said before it starts. */
export interface StorePlan {
  video: string;
  frames: number;
  width: number;
  height: number;
  bytes: number;
  freeBytes: number;
  directory: string;
}

interface StoreMeta {
  video: string;
  width: number;
  height: number;
  fps: number;
  sampling: ClipSampling;
  clipStarts: number[];
  /** The video frame each slot of frames.u8 holds, ascending. */
  frames: number[];
}

export function defaultCacheRoot(): string {
  return process.env.ONEVIDEO_CACHE ?? join(homedir(), ".cache", "onevideo", "frames");
}

/** A video's used frames as uint8 RGB on disk: slot i is height x width x 3 bytes. */
export class FrameStore {
  readonly frameBytes: number;
  readonly #slots: Int32Array;

  private constructor(
    readonly directory: string,
    readonly meta: StoreMeta,
    private readonly fd: number,
  ) {
    this.frameBytes = meta.width * meta.height * 3;
    const last = meta.frames.at(-1) ?? -1;
    this.#slots = new Int32Array(last + 1).fill(-1);
    meta.frames.forEach((frame, slot) => (this.#slots[frame] = slot));
  }

  get clipCount(): number {
    return this.meta.clipStarts.length;
  }

  get frameCount(): number {
    return this.meta.frames.length;
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

  /** The video frames of clip `index`. */
  clipFrameIndices(index: number): number[] {
    if (!Number.isInteger(index) || index < 0 || index >= this.clipCount) {
      throw new RangeError(`clip ${index} does not exist (the store holds ${this.clipCount})`);
    }
    return clipFrames(this.meta.clipStarts[index], this.meta.sampling);
  }

  /** Stored frames by slot (0 .. frameCount - 1), one after another. */
  readSlots(slots: readonly number[]): Uint8Array {
    const bytes = new Uint8Array(slots.length * this.frameBytes);
    slots.forEach((slot, i) => {
      if (!Number.isInteger(slot) || slot < 0 || slot >= this.frameCount) {
        throw new RangeError(`frame slot ${slot} does not exist (the store holds ${this.frameCount})`);
      }
      const read = readSync(this.fd, bytes, i * this.frameBytes, this.frameBytes, slot * this.frameBytes);
      if (read !== this.frameBytes) {
        throw new InputError(`frame store ${this.directory} is truncated; delete it to rebuild`);
      }
    });
    return bytes;
  }

  /** Video frames (each one some clip uses), one after another. */
  readFrames(frames: readonly number[]): Uint8Array {
    return this.readSlots(
      frames.map((frame) => {
        const slot = this.#slots[frame] ?? -1;
        if (slot < 0) throw new RangeError(`frame ${frame} is used by no clip, so it is not stored`);
        return slot;
      }),
    );
  }

  /** The frames of one clip, [clipLength, height, width, 3] bytes. */
  readClip(index: number): Uint8Array {
    return this.readFrames(this.clipFrameIndices(index));
  }

  close(): void {
    closeSync(this.fd);
  }

  /** Opens the store for this video, size and sampling, decoding it first if needed. */
  static async open(video: string, options: FrameStoreOptions): Promise<FrameStore> {
    requireFile(video, "video");
    const root = options.cacheRoot ?? defaultCacheRoot();
    const key = createHash("sha256")
      .update(
        JSON.stringify({
          store: 3,
          video: videoFingerprint(video),
          shortSide: options.shortSide,
          sampling: options.sampling,
        }),
      )
      .digest("hex")
      .slice(0, 24);
    const directory = join(root, key);
    // Probed only to build: a stored video opens without ffmpeg (a GPU server may have none).
    if (!existsSync(join(directory, "meta.json"))) await build(await probeVideo(video), directory, options);
    const meta = JSON.parse(readFileSync(join(directory, "meta.json"), "utf8")) as StoreMeta;
    return new FrameStore(directory, meta, openSync(join(directory, "frames.u8"), "r"));
  }
}

/**
 * What identifies a video wherever it lies: its size and its first and last MiB. A copy of the
 * video on another machine, at another path, finds the store copied with it.
 */
function videoFingerprint(video: string): string {
  const { size } = statSync(video);
  const hash = createHash("sha256").update(String(size));
  const chunk = Buffer.alloc(Math.min(size, 1 << 20));
  const file = openSync(video, "r");
  try {
    for (const position of [0, size - chunk.length]) {
      const read = readSync(file, chunk, 0, chunk.length, position);
      hash.update(chunk.subarray(0, read));
    }
  } finally {
    closeSync(file);
  }
  return hash.digest("hex");
}

/** A run of video frames decoded by one ffmpeg process: [first, end), keeping `frames` of them. */
interface Segment {
  first: number;
  end: number;
  /** The used frames in [first, end), ascending, with their slots. */
  frames: number[];
  firstSlot: number;
}

/** Which frames ffmpeg passes on: those whose index mod clipSpacing is a used residue. */
interface Selection {
  spacing: number;
  residues: Set<number>;
  /** The same as an ffmpeg select expression in n, counted from a multiple of `spacing`. */
  expression: string;
}

/** The residues (mod clipSpacing) of used frames; null when (nearly) every frame is used. */
function selection(sampling: ClipSampling): Selection | null {
  const { clipSpacing: spacing, clipLength, frameStride } = sampling;
  const residues = new Set(Array.from({ length: clipLength }, (_, j) => (j * frameStride) % spacing));
  if (residues.size * 2 > spacing) return null;
  const expression = [...residues].map((r) => `eq(mod(n,${spacing}),${r})`).join("+");
  return { spacing, residues, expression };
}

function planSegments(frames: number[], sampling: ClipSampling, segmentFrames: number): Segment[] {
  // Segments start at multiples of clipSpacing, so n mod clipSpacing in a segment is the frame's.
  const length = Math.max(1, Math.round(segmentFrames / sampling.clipSpacing)) * sampling.clipSpacing;
  const segments: Segment[] = [];
  let slot = 0;
  while (slot < frames.length) {
    const first = Math.floor(frames[slot] / length) * length;
    const end = first + length;
    const firstSlot = slot;
    while (slot < frames.length && frames[slot] < end) slot++;
    segments.push({ first, end, frames: frames.slice(firstSlot, slot), firstSlot });
  }
  return segments;
}

function formatBytes(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

/** The pid that owns a build folder, when that process still runs. */
function liveOwner(building: string): number | null {
  try {
    const pid = Number(readFileSync(join(building, "owner.pid"), "utf8"));
    if (pid === process.pid) return null;
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM" ? -1 : null;
  }
}

async function build(info: VideoInfo, directory: string, options: FrameStoreOptions): Promise<void> {
  const { sampling } = options;
  const starts = clipStarts(info.frameCount, sampling, info.path);
  const frames = usedFrames(starts, sampling);
  const { width, height } = scaledSize(info.width, info.height, options.shortSide);
  const frameBytes = width * height * 3;
  const bytes = frames.length * frameBytes;
  const building = `${directory}.building`;
  try {
    mkdirSync(building, { recursive: true });
  } catch (error) {
    throw new InputError(
      `cannot write the frame store under ${directory} (${(error as NodeJS.ErrnoException).code}); set ONEVIDEO_CACHE or --cache-dir to a writable folder`,
    );
  }
  const owner = liveOwner(building);
  if (owner !== null) {
    throw new InputError(
      `another process (pid ${owner}) is building the frame store of ${info.path} in ${building}; wait for it to finish`,
    );
  }
  writeFileSync(join(building, "owner.pid"), String(process.pid));
  const dataPath = join(building, "frames.u8");
  const have = existsSync(dataPath) ? statSync(dataPath).size : 0;
  const { bavail, bsize } = statfsSync(building);
  const freeBytes = Number(bavail) * Number(bsize) + have;
  options.onPlan?.({ video: info.path, frames: frames.length, width, height, bytes, freeBytes, directory });
  if (bytes > freeBytes) {
    rmSync(building, { recursive: true, force: true });
    throw new InputError(
      `the frame store of ${info.path} needs ${formatBytes(bytes)} (${frames.length} frames of ${width}x${height}) and ${directory} has ${formatBytes(freeBytes)} free; lower --frame-short-side (now ${options.shortSide}) or give --cache-dir on a larger disk`,
    );
  }
  const segments = planSegments(frames, sampling, options.segmentFrames ?? 3000);
  const progressPath = join(building, "progress.json");
  const done = new Set<number>(
    existsSync(progressPath)
      ? (JSON.parse(readFileSync(progressPath, "utf8")) as { done: number[] }).done
      : [],
  );
  const file = await open(dataPath, have > 0 ? "r+" : "w+");
  try {
    await file.truncate(bytes); // the whole store's length at once: a full disk shows now, not midway
    let stored = segments.filter((_, i) => done.has(i)).reduce((total, s) => total + s.frames.length, 0);
    options.onProgress?.(stored, frames.length);
    const queue = segments.map((_, i) => i).filter((i) => !done.has(i));
    const select = selection(sampling);
    const workers = Math.max(1, Math.min(options.workers ?? availableParallelism(), queue.length));
    let decodedAll = true;
    await Promise.all(
      Array.from({ length: workers }, async () => {
        for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
          const segment = segments[next];
          const complete = await decodeSegment(info, segment, width, height, select, async (frame, slot) => {
            await file.write(frame, 0, frame.length, slot * frameBytes);
            options.onProgress?.(++stored, frames.length);
          });
          if (!complete) {
            decodedAll = false; // the video ends before its header said: keep what came before
            continue;
          }
          done.add(next);
          writeFileAtomically(progressPath, JSON.stringify({ done: [...done] }));
        }
      }),
    );
    await file.sync();
    // Where the video ended early, the clips whose frames all arrived are kept.
    const usable = decodedAll ? starts : usableStarts(starts, sampling, segments, done);
    if (usable.length === 0) throw new InputError(`${info.path} has no decodable video frames`);
    const meta: StoreMeta = {
      video: info.path,
      width,
      height,
      fps: info.fps,
      sampling,
      clipStarts: usable,
      frames,
    };
    writeFileSync(join(building, "meta.json"), JSON.stringify(meta));
  } finally {
    await file.close();
  }
  rmSync(join(building, "progress.json"), { force: true });
  rmSync(join(building, "owner.pid"), { force: true });
  rmSync(directory, { recursive: true, force: true });
  renameSync(building, directory);
}

/** Decodes a segment's used frames into their slots; false when the video ended first. */
async function decodeSegment(
  info: VideoInfo,
  segment: Segment,
  width: number,
  height: number,
  select: Selection | null,
  write: (frame: Uint8Array, slot: number) => Promise<void>,
): Promise<boolean> {
  const wanted = new Map(segment.frames.map((frame, i) => [frame, segment.firstSlot + i]));
  const last = segment.frames.at(-1)!;
  // With a select expression ffmpeg passes on only frames of the used residues (a few near the
  // video's ends are not used and are dropped here); without, every frame up to the last used.
  const selected = select
    ? Array.from({ length: last - segment.first + 1 }, (_, n) => segment.first + n).filter((frame) =>
        select.residues.has(frame % select.spacing),
      )
    : null;
  let index = 0;
  let frameNumber = segment.first;
  let written = 0;
  for await (const frame of decodeFrames(info.path, {
    width,
    height,
    fps: info.fps,
    startFrame: segment.first,
    frameCount: selected ? selected.length : last - segment.first + 1,
    select: select?.expression,
  })) {
    const current = selected ? selected[index++] : frameNumber++;
    const slot = wanted.get(current);
    if (slot !== undefined) {
      await write(frame, slot);
      written++;
    }
  }
  return written === segment.frames.length;
}

/** The clip starts whose frames all lie in segments that decoded completely. */
function usableStarts(
  starts: number[],
  sampling: ClipSampling,
  segments: Segment[],
  done: Set<number>,
): number[] {
  const whole = new Set(segments.filter((_, i) => done.has(i)).flatMap((segment) => segment.frames));
  return starts.filter((start) => clipFrames(start, sampling).every((frame) => whole.has(frame)));
}
