// Decoding video frames with an ffmpeg child process: raw RGB frames, scaled by ffmpeg,
// streamed one frame at a time so memory stays bounded whatever the video's length.
import { spawn } from "node:child_process";
import { InputError } from "../errors.ts";
import { installAdvice } from "../util/system.ts";

export interface DecodeOptions {
  width: number;
  height: number;
  /** First frame to decode (0-based, at the video's frame rate). */
  startFrame?: number;
  /** Frames to decode from startFrame; all the rest when absent. */
  frameCount?: number;
  /** The video's frame rate, to turn startFrame into a seek time. */
  fps: number;
  /**
   * Keep only frames whose index counted from startFrame satisfies this ffmpeg
   * expression in n (e.g. "lt(mod(n,60),8)"), so unused frames are never scaled or piped.
   */
  select?: string;
}

/** The size a frame is scaled to so that its short side is `shortSide`, keeping the aspect (even sizes). */
export function scaledSize(
  width: number,
  height: number,
  shortSide: number,
): { width: number; height: number } {
  const even = (value: number) => Math.max(2, 2 * Math.round(value / 2));
  return width <= height
    ? { width: even(shortSide), height: even((height * shortSide) / width) }
    : { width: even((width * shortSide) / height), height: even(shortSide) };
}

/** Yields frames as width * height * 3 bytes (RGB, row-major). */
export async function* decodeFrames(path: string, options: DecodeOptions): AsyncGenerator<Uint8Array> {
  const frameBytes = options.width * options.height * 3;
  const filters = [
    ...(options.select ? [`select='${options.select.replace(/,/g, "\\,")}'`] : []),
    `scale=${options.width}:${options.height}:flags=area`,
    "format=rgb24",
  ];
  const args = ["-v", "error", "-nostdin"];
  const start = options.startFrame ?? 0;
  // Seeking to half a frame before the target lands on it despite rounding of timestamps.
  if (start > 0) args.push("-ss", ((start - 0.5) / options.fps).toFixed(6));
  args.push("-i", path, "-map", "0:v:0", "-vf", filters.join(","), "-fps_mode", "passthrough");
  if (options.frameCount !== undefined && !options.select) args.push("-frames:v", String(options.frameCount));
  args.push("-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1");
  const ffmpeg = spawn("ffmpeg", args, { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  ffmpeg.stderr.on("data", (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    ffmpeg.on("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "ENOENT"
          ? new InputError(`ffmpeg is not installed; ${installAdvice(["ffmpeg"])}`)
          : error,
      ),
    );
    ffmpeg.on("close", resolve);
  });
  let pending: Buffer = Buffer.alloc(0);
  let delivered = 0;
  const limit = options.frameCount ?? Number.POSITIVE_INFINITY;
  try {
    for await (const chunk of ffmpeg.stdout as AsyncIterable<Buffer>) {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= frameBytes && delivered < limit) {
        const frame = new Uint8Array(frameBytes);
        frame.set(pending.subarray(0, frameBytes));
        pending = pending.subarray(frameBytes);
        delivered++;
        yield frame;
      }
      if (delivered >= limit) break;
    }
  } finally {
    if (ffmpeg.exitCode === null) ffmpeg.kill("SIGKILL");
  }
  const code = await exited;
  if (delivered < limit && code !== 0 && code !== null) {
    const reason = stderr.trim().split("\n").at(-1) ?? "";
    if (/decoder .*not found|unsupported codec|no decoder/i.test(stderr)) {
      throw new InputError(`${path}: its codec is not supported by this ffmpeg (${reason})`);
    }
    throw new InputError(`${path}: ffmpeg failed while decoding (${reason})`);
  }
}
