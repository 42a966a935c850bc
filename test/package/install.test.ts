// The package as a user gets it: `npm pack` of this checkout installed into a fresh project
// with `npm install`, then used there with plain Node (no tsx): the import, the types, the
// README's library example, the command. Once with the addon built by the install step, once
// installed without scripts, where only --help and --version may work.
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { scratchDir } from "../helpers/videos.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const version = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
const dir = scratchDir();

function run(command: string, args: string[], options: SpawnSyncOptions = {}) {
  const result = spawnSync(command, args, { encoding: "utf8", ...options });
  return { code: result.status, stdout: String(result.stdout), stderr: String(result.stderr) };
}

const packed = run("npm", ["pack", "--json", "--pack-destination", dir], { cwd: root });
assert.equal(packed.code, 0, packed.stderr);
const [{ filename, files }] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
const tarball = join(dir, filename);

/** A fresh project with the tarball installed (from the npm cache, where setup filled it). */
function project(name: string, ...npmArgs: string[]): string {
  const folder = join(dir, name);
  mkdirSync(folder);
  writeFileSync(join(folder, "package.json"), JSON.stringify({ name, private: true, type: "module" }));
  const installed = run(
    "npm",
    ["install", "--prefer-offline", "--no-audit", "--no-fund", ...npmArgs, tarball],
    { cwd: folder },
  );
  assert.equal(installed.code, 0, installed.stderr);
  return folder;
}

test("the tarball holds compiled code, declarations and the addon's sources; no tests, benches or TypeScript sources", () => {
  const paths = files.map((file) => file.path);
  for (const path of ["dist/api/index.js", "dist/api/index.d.ts", "dist/cli/main.js", "bin/onevideo.js"]) {
    assert.ok(paths.includes(path), path);
  }
  assert.ok(paths.includes("native/src/addon.cc") && paths.includes("scripts/install.mjs"));
  const strays = paths.filter(
    (path) =>
      /^(test|bench|src|examples|runs|build)\//.test(path) || /\.ts$/.test(path.replace(/\.d\.ts$/, "")),
  );
  assert.deepEqual(strays, []);
});

test("installed with npm: plain Node imports it, its types check, the library example and the command run, and again after npm ci", () => {
  const folder = project("with-addon");
  assert.ok(
    existsSync(join(folder, "node_modules/onevideo/build/native/onevideo_native.node")),
    "the install step built the addon",
  );
  const node = (args: string[]) => run(process.execPath, args, { cwd: folder });

  const imported = node([
    "-e",
    'const m = await import("onevideo"); const e = await import("onevideo/engine"); ' +
      "console.log(typeof m.pretrain, typeof m.evaluateKnn, e.F.relu(e.tensor([-1, 2])).toArray().join(','))",
  ]);
  assert.equal(imported.code, 0, imported.stderr);
  assert.equal(imported.stdout.trim(), "function function 0,2");

  // The declarations: a TypeScript user's call is checked against them.
  writeFileSync(
    join(folder, "use.ts"),
    'import { pretrain, type PretrainResult } from "onevideo";\n' +
      'import { evaluateKnn } from "onevideo/eval";\n' +
      'const run: PretrainResult = await pretrain({ method: "dino", steps: 2 });\n' +
      "const top1: number = evaluateKnn({ checkpoint: run.runDir, dataset: 'fashion-mnist' }).results[0].top1;\n" +
      "// @ts-expect-error: the checkpoint is a path\n" +
      "evaluateKnn({ checkpoint: 3 });\n" +
      "export { top1 };\n",
  );
  const tsc = join(root, "node_modules/typescript/bin/tsc");
  const typed = node([
    tsc,
    "--noEmit",
    "--strict",
    "--module",
    "nodenext",
    "--target",
    "es2022",
    "--types",
    "node",
    "--typeRoots",
    join(root, "node_modules/@types"),
    "use.ts",
  ]);
  assert.equal(typed.code, 0, typed.stdout + typed.stderr);

  const example = readFileSync(join(root, "examples/library.mjs"), "utf8");
  assert.ok(
    readFileSync(join(root, "README.md"), "utf8").includes(example),
    "the README shows the example as it is",
  );
  copyFileSync(join(root, "examples/library.mjs"), join(folder, "library.mjs"));
  const ran = node(["library.mjs", "runs/example"]);
  assert.equal(ran.code, 0, ran.stderr);
  assert.match(
    ran.stdout,
    /^trained 2 steps: loss \d+\.\d+ -> \d+\.\d+\nk-NN top-1 at k=10: [\d.]+% \(fashion-mnist\/train -> fashion-mnist\/test\)\n$/,
  );

  const npx = (...args: string[]) => run("npx", ["--no", "--", "onevideo", ...args], { cwd: folder });
  assert.equal(npx("--version").stdout, `${version}\n`);
  const help = npx("--help");
  assert.equal(help.code, 0);
  for (const name of ["pretrain", "eval", "doctor"])
    assert.match(help.stdout, new RegExp(`^  ${name} `, "m"));
  const trained = npx(
    "pretrain",
    "--preset",
    "demo",
    "--dataset",
    "fashion-mnist",
    "--steps",
    "2",
    "--out",
    "runs/cli",
    "--json",
  );
  assert.equal(trained.code, 0, trained.stderr);
  const summary = JSON.parse(trained.stdout) as { steps: number; runDir: string };
  assert.equal(summary.steps, 2);
  assert.ok(existsSync(join(summary.runDir, "weights.safetensors")));
  // npm ci wipes node_modules and installs again from the lock file: the install step builds again.
  const ci = run("npm", ["ci", "--prefer-offline", "--no-audit", "--no-fund"], { cwd: folder });
  assert.equal(ci.code, 0, ci.stderr);
  const doctor = npx("doctor", "--json");
  assert.equal(doctor.code, 0, doctor.stdout);
  const checks = (JSON.parse(doctor.stdout) as { checks: { name: string; found: string }[] }).checks;
  assert.match(
    checks.find((check) => check.name === "onevideo")!.found,
    /\(package at .*node_modules\/onevideo\)/,
  );
});

test("installed without its install step: --help and --version work, the rest is one line naming the fix", () => {
  const folder = project("without-addon", "--ignore-scripts");
  const npx = (...args: string[]) => run("npx", ["--no", "--", "onevideo", ...args], { cwd: folder });
  assert.equal(npx("--version").stdout, `${version}\n`);
  assert.match(npx("pretrain", "--help").stdout, /^usage: onevideo pretrain/);
  const trained = npx("pretrain", "--dataset", "fashion-mnist", "--steps", "2", "--out", "runs/x");
  assert.equal(trained.code, 1);
  assert.match(
    trained.stderr,
    /^onevideo: the native addon is not built \(.*\); run 'npm rebuild onevideo'\n$/,
  );
  assert.ok(!existsSync(join(folder, "runs")), "nothing written");
  const doctor = npx("doctor");
  assert.equal(doctor.code, 1);
  assert.match(doctor.stdout, /^FAIL addon +the native addon is not built/m);

  // Where libtorch is missing the install step still succeeds, saying what to install.
  const install = run(process.execPath, ["node_modules/onevideo/scripts/install.mjs"], {
    cwd: folder,
    env: { ...process.env, LIBTORCH: join(dir, "no-libtorch") },
  });
  assert.equal(install.code, 0);
  assert.match(
    install.stderr,
    /^onevideo: the native addon was not built: install the Debian package libtorch-dev \(sudo apt-get install libtorch-dev\), then run 'npm rebuild onevideo'\n$/,
  );
  assert.ok(!existsSync(join(folder, "node_modules/onevideo/build")), "no build was tried");
});
