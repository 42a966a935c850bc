// npm's install step of the onevideo package: builds the native addon against the system's
// libtorch into the package's own build/ folder. Install always succeeds: where the build
// cannot run, it says what is missing, and onevideo's commands say it again (--help and
// --version work without the addon).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

// A checkout builds it in scripts/setup.sh, after the system packages.
if (existsSync(join(root, "src/cli/main.ts"))) process.exit(0);

const { installAdvice, missingBuildPackages } = await import(join(root, "dist/util/system.js"));
const say = (line) => process.stderr.write(`onevideo: ${line}\n`);
const missing = missingBuildPackages();
if (missing.length > 0) {
  say(`the native addon was not built: ${installAdvice(missing)}, then run 'npm rebuild onevideo'`);
  process.exit(0);
}
mkdirSync(join(root, "build"), { recursive: true });
const log = join(root, "build/native-build.log");
const build = spawnSync("bash", [join(root, "scripts/build-native.sh")], { cwd: root, encoding: "utf8" });
writeFileSync(log, `${build.stdout ?? ""}${build.stderr ?? ""}`);
if (build.status !== 0) {
  say(
    `the native addon's build failed (its output: ${log}); fix what it names, then run 'npm rebuild onevideo'`,
  );
}
