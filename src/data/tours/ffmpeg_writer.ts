// Raw RGB frames piped into an ffmpeg process: the tour's video (H.264 where Debian's ffmpeg
// has libx264, else MPEG-4 part 2) or a folder of numbered JPEGs. The bitexact flags keep
// encoder version strings out of the files, so a seed's output is the same bytes every run.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { InputError } from "../../errors.ts";
import { installAdvice } from "../../util/system.ts";

let encoders: string | undefined;

/** The video encoder to use: libx264 when this ffmpeg has it. */
export function videoCodec(): "libx264" | "mpeg4" {
  if (encoders === undefined) {
    try {
      encoders = execFileSync("ffmpeg", ["-hide_banner", "-encoders"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      });
    } catch {
      throw new InputError(`ffmpeg is not installed; ${installAdvice(["ffmpeg"])}`);
    }
  }
  return / libx264 /.test(encoders) ? "libx264" : "mpeg4";
}

export class FfmpegWriter {
  private readonly process: ChildProcess;
  private readonly exited: Promise<number | null>;
  private stderr = "";
  private failure: Error | undefined;

  constructor(
    private readonly output: string,
    width: number,
    height: number,
    fps: number,
    outputArgs: string[],
  ) {
    this.process = spawn(
      "ffmpeg",
      [
        ...["-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24"],
        ...["-s", `${width}x${height}`, "-r", String(fps), "-i", "-"],
        ...["-fflags", "+bitexact", "-flags:v", "+bitexact", ...outputArgs, output],
      ],
      { stdio: ["pipe", "ignore", "pipe"] },
    );
    this.process.stderr!.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.process.stdin!.on("error", (error) => (this.failure ??= error));
    this.process.on("error", (error) => (this.failure ??= error));
    this.exited = once(this.process, "close").then(([code]) => code as number | null);
  }

  /** Queues frames (the buffer must not be reused); waits while ffmpeg catches up. */
  async write(frames: Uint8Array): Promise<void> {
    this.check();
    if (!this.process.stdin!.write(frames)) {
      await Promise.race([once(this.process.stdin!, "drain"), this.exited]);
      this.check();
    }
  }

  async close(): Promise<void> {
    this.process.stdin!.end();
    const code = await this.exited;
    this.check();
    if (code !== 0)
      throw new Error(`ffmpeg failed writing ${this.output}: ${this.stderr.trim() || `exit ${code}`}`);
  }

  private check(): void {
    if (!this.failure) return;
    if ((this.failure as NodeJS.ErrnoException).code === "ENOENT")
      throw new InputError(`ffmpeg is not installed; ${installAdvice(["ffmpeg"])}`);
    throw new Error(`ffmpeg failed writing ${this.output}: ${this.stderr.trim() || this.failure.message}`);
  }
}

/** An MP4 in yuv420p, which every player and decoder reads. One thread: the same bytes on any machine. */
export function videoWriter(path: string, width: number, height: number, fps: number): FfmpegWriter {
  const codec = videoCodec();
  const quality = codec === "libx264" ? ["-preset", "medium", "-crf", "18"] : ["-q:v", "3"];
  return new FfmpegWriter(path, width, height, fps, [
    ...["-c:v", codec, ...quality, "-threads", "1", "-pix_fmt", "yuv420p"],
  ]);
}

/** Frames as <dir>/00000.jpg, 00001.jpg, ... (DAVIS's names). */
export function jpegWriter(dir: string, width: number, height: number, fps: number): FfmpegWriter {
  return new FfmpegWriter(`${dir}/%05d.jpg`, width, height, fps, [
    ...["-c:v", "mjpeg", "-q:v", "2", "-pix_fmt", "yuvj444p", "-start_number", "0", "-f", "image2"],
  ]);
}
