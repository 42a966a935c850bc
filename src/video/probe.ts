// What a video file holds, read with ffprobe: duration, frame rate, frame count, size, codec.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { InputError, requireFile } from "../errors.ts";
import { installAdvice } from "../util/system.ts";

const run = promisify(execFile);

export interface VideoInfo {
  path: string;
  /** Seconds. */
  duration: number;
  /** Frames per second (the stream's average rate). */
  fps: number;
  frameCount: number;
  width: number;
  height: number;
  codec: string;
}

function parseRate(rate: string | undefined): number {
  const [numerator, denominator] = (rate ?? "0/0").split("/").map(Number);
  return denominator > 0 ? numerator / denominator : 0;
}

export async function probeVideo(path: string): Promise<VideoInfo> {
  requireFile(path, "video");
  let output: string;
  try {
    ({ stdout: output } = await run(
      "ffprobe",
      [
        "-v",
        "error",
        "-select_streams",
        "v:0",
        "-show_entries",
        "stream=codec_name,width,height,avg_frame_rate,r_frame_rate,nb_frames,duration:format=duration",
        "-of",
        "json",
        path,
      ],
      { maxBuffer: 1 << 20 },
    ));
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? "")
      .trim()
      .split("\n")
      .at(-1);
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new InputError(`ffprobe is not installed; ${installAdvice(["ffmpeg"])}`);
    }
    throw new InputError(`${path} is not a video ffmpeg can read (${stderr || "ffprobe failed"})`);
  }
  const parsed = JSON.parse(output) as {
    streams?: Record<string, string | number>[];
    format?: { duration?: string };
  };
  const stream = parsed.streams?.[0];
  if (!stream) throw new InputError(`${path} has no video stream`);
  const fps = parseRate(stream.avg_frame_rate as string) || parseRate(stream.r_frame_rate as string);
  const duration = Number(stream.duration ?? parsed.format?.duration ?? 0);
  let frameCount = Number(stream.nb_frames ?? 0);
  if (!(frameCount > 0)) frameCount = await countFrames(path);
  if (!(frameCount > 0) || !(fps > 0)) throw new InputError(`${path} has no decodable video frames`);
  return {
    path,
    duration: duration > 0 ? duration : frameCount / fps,
    fps,
    frameCount,
    width: Number(stream.width),
    height: Number(stream.height),
    codec: String(stream.codec_name),
  };
}

/** Counts a stream's packets (demuxing only, no decoding) when the container does not say. */
async function countFrames(path: string): Promise<number> {
  try {
    const { stdout } = await run(
      "ffprobe",
      [
        "-v",
        "error",
        "-select_streams",
        "v:0",
        "-count_packets",
        "-show_entries",
        "stream=nb_read_packets",
        "-of",
        "csv=p=0",
        path,
      ],
      { maxBuffer: 1 << 20 },
    );
    return Number.parseInt(stdout.trim(), 10) || 0;
  } catch {
    return 0;
  }
}
