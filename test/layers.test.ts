// The house rule the README's layout section states: a file imports from its own folder and
// from the layers below it, never up, and no files import each other in a circle.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const src = fileURLToPath(new URL("../src/", import.meta.url));

/** The layers from the ground up; a folder (or a file at src/) belongs to one. */
const layers = [
  ["errors.ts", "image"],
  ["options.ts", "util"],
  ["torch"],
  ["nn", "optim", "video"],
  ["data"],
  ["models", "augment"],
  ["discovery"],
  ["train"],
  ["methods"],
  ["eval", "export"],
  ["analysis"],
  ["viz"],
  ["pretrain"],
  ["cli", "api"],
];

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** The top-level room of a file: its first folder under src/, or the file itself. */
const room = (file: string) => relative(src, file).split("/")[0];
const floor = (file: string) => {
  const index = layers.findIndex((rooms) => rooms.includes(room(file)));
  assert.ok(index >= 0, `${relative(src, file)} is in no layer: add its folder to the list`);
  return index;
};

/** The project files a file imports (static and dynamic, types included). */
function imports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)].map((m) => m[1]);
  return specifiers.map((specifier) => resolve(dirname(file), specifier));
}

const files = sourceFiles(src);
const graph = new Map(files.map((file) => [file, imports(file)]));

test("no import runs back up a layer", () => {
  const upward: string[] = [];
  for (const [file, targets] of graph) {
    for (const target of targets) {
      if (room(target) !== room(file) && floor(target) >= floor(file)) {
        upward.push(`${relative(src, file)} -> ${relative(src, target)}`);
      }
    }
  }
  assert.deepEqual(upward, []);
});

test("no files import each other in a circle", () => {
  const state = new Map<string, "open" | "done">();
  const circles: string[] = [];
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === "done") return;
    if (state.get(file) === "open") {
      circles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(src, f)).join(" -> "));
      return;
    }
    state.set(file, "open");
    for (const target of graph.get(file) ?? []) visit(target, [...path, file]);
    state.set(file, "done");
  };
  for (const file of files) visit(file, []);
  assert.deepEqual(circles, []);
});
