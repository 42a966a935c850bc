#!/usr/bin/env node
// The onevideo command: the compiled code of an installed package, or a checkout's TypeScript
// sources through tsx's loader.
import { existsSync } from "node:fs";

const sources = new URL("../src/cli/main.ts", import.meta.url);
if (existsSync(sources)) {
  const { register } = await import("tsx/esm/api");
  register();
  await import(sources.href);
} else {
  await import("../dist/cli/main.js");
}
