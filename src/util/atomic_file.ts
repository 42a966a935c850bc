// Whole files or none: a file is written beside its target and renamed over it, so a
// crash or a signal mid-write never leaves a half-written file that a later run trusts.
import { renameSync, rmSync, writeFileSync } from "node:fs";

/** The temporary name a write by this process uses next to `path`. */
export function temporaryPath(path: string): string {
  return `${path}.tmp-${process.pid}`;
}

export function writeFileAtomically(path: string, contents: string | NodeJS.ArrayBufferView): void {
  const temporary = temporaryPath(path);
  try {
    writeFileSync(temporary, contents);
  } catch (error) {
    rmSync(temporary, { force: true }); // e.g. a disk that filled up mid-write
    throw error;
  }
  renameSync(temporary, path);
}
