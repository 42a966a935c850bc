// Real test videos (Debian's opencv-doc) and small generated ones.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const opencvData = "/usr/share/doc/opencv-doc/examples/data";
export const vtest = join(opencvData, "vtest.avi");
export const tree = join(opencvData, "tree.avi");
export const megamind = join(opencvData, "Megamind.avi");

export function scratchDir(prefix = "onevideo-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** An ffmpeg test-pattern video of `frames` frames. */
export function syntheticVideo(path: string, frames: number, size = "64x48", rate = 25): string {
  execFileSync("ffmpeg", [
    "-v",
    "error",
    "-y",
    "-f",
    "lavfi",
    "-i",
    `testsrc=size=${size}:rate=${rate}`,
    "-frames:v",
    String(frames),
    "-pix_fmt",
    "yuv420p",
    path,
  ]);
  return path;
}
