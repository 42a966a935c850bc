// What a folder holds, to show that a command which failed left every file as it was.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

/** Every file under `root` (recursively) by its relative path, as the SHA-256 of its bytes. */
export function folderSnapshot(root: string): Record<string, string> {
  const snapshot: Record<string, string> = {};
  const visit = (path: string) => {
    if (!existsSync(path)) return;
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path).sort()) visit(join(path, name));
      return;
    }
    snapshot[relative(root, path)] = createHash("sha256").update(readFileSync(path)).digest("hex");
  };
  visit(root);
  return snapshot;
}
