// Folders a command writes into: made one level at a time (Node 20's recursive mkdir spins
// forever under some paths, e.g. /proc), checked writable before any work starts, and swept
// of the temporary files that a killed process left behind.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { InputError } from "../errors.ts";

/** Makes the missing folders down to `path`; returns those it made, outermost first. */
function makeLevels(path: string): string[] {
  if (existsSync(path)) return [];
  const parent = dirname(path);
  const made = parent !== path ? makeLevels(parent) : [];
  mkdirSync(path);
  return [...made, path];
}

/**
 * Makes `path` (and its parents) and checks it takes files; `what` names it in the one-line
 * error. Returns the folders it made, outermost first (see removeEmptyFolders).
 */
export function makeWritableFolder(path: string, what: string): string[] {
  try {
    const made = makeLevels(path);
    if (!statSync(path).isDirectory()) throw Object.assign(new Error(), { code: "ENOTDIR" });
    const probe = join(path, `.onevideo-write-test-${process.pid}`);
    writeFileSync(probe, "");
    unlinkSync(probe);
    return made;
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new InputError(`cannot write ${what} ${path} (${reason}); give a writable folder`);
  }
}

/** Whether a process with this id is running (ours or another user's). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes the `*.tmp-<pid>*` files and folders in `folder` whose process is gone; returns their names. */
export function removeStaleTemporaries(folder: string): string[] {
  if (!existsSync(folder) || !statSync(folder).isDirectory()) return [];
  const removed: string[] = [];
  for (const name of readdirSync(folder)) {
    const pid = /\.tmp-(\d+)/.exec(name)?.[1];
    if (pid === undefined || Number(pid) === process.pid || isRunning(Number(pid))) continue;
    rmSync(join(folder, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** Removes those of `folders` (outermost first, as makeWritableFolder returns them) that are empty. */
export function removeEmptyFolders(folders: string[]): void {
  for (const folder of [...folders].reverse()) {
    if (existsSync(folder) && readdirSync(folder).length === 0) rmSync(folder, { recursive: true });
  }
}
