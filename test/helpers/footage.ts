// Generated footage with known content for the analysis tests: segments joined by hard cuts,
// a slow fade inside one shot, and solid colours stored losslessly.
import { execFileSync } from "node:child_process";
import { join } from "node:path";

const rate = 25;
const size = "160x120";

function ffmpeg(...args: string[]): void {
  execFileSync("ffmpeg", ["-v", "error", "-y", ...args]);
}

/** `sources` (lavfi filter chains, each `frames` long) joined end to end by hard cuts. */
function concatenate(path: string, sources: { chain: string; frames: number }[], ...codec: string[]): string {
  const inputs = sources.flatMap(({ chain, frames }) => [
    "-f",
    "lavfi",
    "-i",
    `${chain},trim=end_frame=${frames},setpts=PTS-STARTPTS,format=yuv444p`,
  ]);
  const labels = sources.map((_, i) => `[${i}:v]`).join("");
  ffmpeg(
    ...inputs,
    "-filter_complex",
    `${labels}concat=n=${sources.length}:v=1[video]`,
    "-map",
    "[video]",
    ...codec,
    path,
  );
  return path;
}

export interface CutsAndFade {
  path: string;
  /** First frames of shots 2, 3, ... */
  cuts: number[];
  /** First and last frame of the fade to black. */
  fade: [number, number];
  frames: number;
  fps: number;
}

/**
 * Four shots, 170 frames at 25 fps: a test pattern, colour bars, a zooming Mandelbrot set that
 * fades to black over its last 50 frames (frames 80..129, inside the shot), and a colour test
 * card. Cuts come before frames 30, 60 and 140. H.264, as footage usually is.
 */
export function cutsAndFadeVideo(dir: string): CutsAndFade {
  const path = concatenate(
    join(dir, "cuts-and-fade.mp4"),
    [
      { chain: `testsrc=size=${size}:rate=${rate}`, frames: 30 },
      { chain: `smptebars=size=${size}:rate=${rate}`, frames: 30 },
      { chain: `mandelbrot=size=${size}:rate=${rate},fade=t=out:start_frame=20:nb_frames=50`, frames: 80 },
      { chain: `rgbtestsrc=size=${size}:rate=${rate}`, frames: 30 },
    ],
    "-c:v",
    "libx264",
    "-pix_fmt",
    "yuv420p",
  );
  return { path, cuts: [30, 60, 140], fade: [80, 129], frames: 170, fps: rate };
}

/** Solid colours (ffmpeg colour names or 0xRRGGBB), `frames` each, stored losslessly as RGB. */
export function coloursVideo(path: string, colours: string[], frames: number): string {
  const inputs = colours.flatMap((colour) => [
    "-f",
    "lavfi",
    "-i",
    `color=c=${colour}:size=64x48:rate=${rate},trim=end_frame=${frames},format=bgr0`,
  ]);
  const labels = colours.map((_, i) => `[${i}:v]`).join("");
  ffmpeg(
    ...inputs,
    "-filter_complex",
    `${labels}concat=n=${colours.length}:v=1[video]`,
    "-map",
    "[video]",
    "-c:v",
    "ffv1",
    "-pix_fmt",
    "bgr0",
    path,
  );
  return path;
}

/** White fading to black over `frames` frames (lossless RGB). */
export function fadeVideo(path: string, frames: number): string {
  ffmpeg(
    "-f",
    "lavfi",
    "-i",
    `color=c=white:size=64x48:rate=${rate},fade=t=out:start_frame=0:nb_frames=${frames},format=bgr0`,
    "-frames:v",
    String(frames),
    "-c:v",
    "ffv1",
    "-pix_fmt",
    "bgr0",
    path,
  );
  return path;
}
