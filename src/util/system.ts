// Where onevideo runs from (a checkout or an installed package) and which of the system's Debian
// packages it needs are missing, so that a missing one is named in one line with its fix.
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, readdirSync, readFileSync } from "node:fs";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The package's folder: the checkout, or node_modules/onevideo (src/ or dist/ lies below it). */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** A git checkout runs the TypeScript sources; an installed package, the compiled dist/. */
export const isCheckout = existsSync(join(packageRoot, "src/cli/main.ts"));

/** The full path of a program on PATH, or undefined. */
export function findProgram(name: string): string | undefined {
  for (const folder of (process.env.PATH ?? "").split(delimiter).filter(Boolean)) {
    const path = join(folder, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/** The folder holding TorchConfig.cmake: LIBTORCH's, or Debian's libtorch-dev's. */
export function findLibtorchCmake(): string | undefined {
  const candidates = process.env.LIBTORCH
    ? [join(process.env.LIBTORCH, "share/cmake/Torch")]
    : ["/usr/share/cmake/Torch", ...multiarchFolders("cmake/Torch")];
  return candidates.find((folder) => existsSync(join(folder, "TorchConfig.cmake")));
}

function multiarchFolders(below: string): string[] {
  try {
    return readdirSync("/usr/lib", { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && entry.name.includes("-linux-"))
      .map((entry) => join("/usr/lib", entry.name, below));
  } catch {
    return [];
  }
}

/** The Debian packages the native addon's build needs that this system lacks. */
export function missingBuildPackages(): string[] {
  const missing: string[] = [];
  if (!findProgram("cmake")) missing.push("cmake");
  if (!findProgram("g++")) missing.push("g++");
  if (!findLibtorchCmake()) missing.push("libtorch-dev");
  return missing;
}

/** "install the Debian packages a b (sudo apt-get install a b)". */
export function installAdvice(packages: readonly string[]): string {
  const names = packages.join(" ");
  const noun = packages.length === 1 ? "package" : "packages";
  return `install the Debian ${noun} ${names} (sudo apt-get install ${names})`;
}

/** The command that builds the addon here. */
export const addonBuildCommand = isCheckout ? "bash scripts/setup.sh" : "npm rebuild onevideo";

/** The version in the package's own package.json. */
export function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as { version: string };
  return manifest.version;
}

/** The checkout's commit (with "-dirty" when files differ from it), or undefined outside a git checkout. */
export function gitCommit(): string | undefined {
  if (!isCheckout) return undefined;
  const git = (...args: string[]) =>
    spawnSync("git", ["-C", packageRoot, ...args], { encoding: "utf8", timeout: 5000 });
  const head = git("rev-parse", "HEAD");
  if (head.status !== 0) return undefined;
  const dirty = git("status", "--porcelain", "--untracked-files=no").stdout.trim() !== "";
  return `${head.stdout.trim()}${dirty ? "-dirty" : ""}`;
}
