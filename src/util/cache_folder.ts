// Building an on-disk cache folder atomically: everything is written into a temporary
// folder beside the target, which replaces the target only when complete, so a crash
// or a bad input never leaves a half-built cache that later runs would trust.
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "../errors.ts";
import { temporaryPath } from "./atomic_file.ts";

/**
 * Creates `directory` holding `dataFile` (filled by `fill`) and meta.json (what `fill`
 * returns). `what` names the cache in the error for an unwritable location.
 */
export async function buildCacheDirectory(
  directory: string,
  dataFile: string,
  what: string,
  fill: (file: FileHandle) => Promise<object>,
): Promise<void> {
  const temporary = temporaryPath(directory);
  try {
    mkdirSync(temporary, { recursive: true });
  } catch (error) {
    throw new InputError(
      `cannot write the ${what} under ${directory} (${(error as NodeJS.ErrnoException).code}); set ONEVIDEO_CACHE or --cache-dir to a writable folder`,
    );
  }
  const file = await open(join(temporary, dataFile), "w");
  try {
    const meta = await fill(file);
    await file.sync();
    await file.close();
    writeFileSync(join(temporary, "meta.json"), JSON.stringify(meta));
    rmSync(directory, { recursive: true, force: true });
    renameSync(temporary, directory);
  } catch (error) {
    await file.close().catch(() => undefined);
    rmSync(temporary, { recursive: true, force: true });
    throw error;
  }
}
