// Real test videos (Debian's opencv-doc) and small generated ones.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const opencvData = "/usr/share/doc/opencv-doc/examples/data";
export const vtest = join(opencvData, "vtest.avi");
export const tree = join(opencvData, "tree.avi");
export const megamind = join(opencvData, "Megamind.avi");

const scratchDirs: string[] = [];
// A test file runs in its own process: its folders go when it ends, so that repeated runs
// do not fill the disk (a run of the suite writes several GB).
process.on("exit", () => {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

export function scratchDir(prefix = "onevideo-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratchDirs.push(dir);
  return dir;
}

/** Runs ffmpeg on a lavfi source (a generated pattern or colour) into `path`. */
function generate(source: string, frames: number, path: string, ...extra: string[]): string {
  execFileSync("ffmpeg", [
    "-v",
    "error",
    "-y",
    "-f",
    "lavfi",
    "-i",
    source,
    "-frames:v",
    String(frames),
    ...extra,
    path,
  ]);
  return path;
}

/** A one-colour image, e.g. syntheticImage("a.png", "40x30", "red"). */
export function syntheticImage(path: string, size: string, color: string): string {
  return generate(`color=c=${color}:size=${size}`, 1, path);
}

/** An ffmpeg test-pattern video of `frames` frames. */
export function syntheticVideo(path: string, frames: number, size = "64x48", rate = 25): string {
  return generate(`testsrc=size=${size}:rate=${rate}`, frames, path, "-pix_fmt", "yuv420p");
}
