// onevideo doctor: what this machine gives onevideo (the addon and its libtorch, BLAS, threads,
// CUDA, ffmpeg, the frame store's disk, the bundled data) and, for what is missing, the fix.
import { spawnSync } from "node:child_process";
import { existsSync, statfsSync } from "node:fs";
import { dirname } from "node:path";
import { fashionMnistRoot } from "../data/fashion_mnist.ts";
import { jsonOption } from "../options.ts";
import { demoVideo } from "../pretrain/demo.ts";
import { listPhotos, photoPackages } from "../data/tours/photos.ts";
import { addonPath, loadedBlasLibrary, loadedLibrary, native } from "../torch/native.ts";
import { findProgram, installAdvice, isCheckout, packageRoot, packageVersion } from "../util/system.ts";
import { defaultCacheRoot } from "../video/frame_store.ts";
import { defineCommand, printResult } from "./command.ts";

interface Check {
  name: string;
  ok: boolean;
  /** What was found, or what is wrong. */
  found: string;
  /** What to do about it (only when not ok). */
  fix?: string;
  /** Whether onevideo's commands cannot work without it. */
  required?: boolean;
}

function addonChecks(): Check[] {
  try {
    native.version(); // loads it
  } catch (error) {
    const line = (error as Error).message;
    return [{ name: "addon", ok: false, found: line, required: true }];
  }
  const libtorch = loadedLibrary(/libtorch_cpu[^/]*\.so/);
  const blas = loadedBlasLibrary() ?? "none found";
  const referenceBlas = !/openblas|mkl|blis/i.test(blas);
  const threads = native.getNumThreads();
  const cuda = native.cudaAvailable();
  return [
    { name: "addon", ok: true, found: addonPath },
    { name: "libtorch", ok: true, found: `${native.version()} (${libtorch ?? "linked statically"})` },
    {
      name: "BLAS",
      ok: !referenceBlas,
      found: referenceBlas ? `${blas}: the reference BLAS, about 25x slower` : blas,
      fix: referenceBlas ? installAdvice(["libopenblas0-openmp"]) : undefined,
    },
    {
      name: "threads",
      ok: true,
      found: `${threads} (${process.env.ONEVIDEO_THREADS ? "ONEVIDEO_THREADS" : "one per core; ONEVIDEO_THREADS sets it"})`,
    },
    {
      name: "CUDA",
      ok: true,
      found: cuda
        ? `${native.cudaDeviceCount()} device(s)`
        : "not available (this libtorch or machine has no GPU): training runs on the CPU",
    },
    {
      name: "data parallel",
      ok: true,
      found: native.distributedBackends().join(", ") || "no backend in this build",
    },
  ];
}

function programCheck(name: string, required: boolean): Check {
  const path = findProgram(name);
  if (!path) return { name, ok: false, found: "not found", fix: installAdvice(["ffmpeg"]), required };
  const version = spawnSync(path, ["-version"], { encoding: "utf8", timeout: 5000 }).stdout.split("\n")[0];
  return { name, ok: true, found: `${path} (${version.replace(/ Copyright.*/, "")})` };
}

function frameStoreCheck(): Check {
  const root = defaultCacheRoot();
  // The nearest folder that exists is where the store's bytes will go.
  let folder = root;
  while (!existsSync(folder) && dirname(folder) !== folder) folder = dirname(folder);
  try {
    const { bavail, bsize } = statfsSync(folder);
    const free = (Number(bavail) * Number(bsize)) / 1e9;
    return {
      name: "frame store",
      ok: true,
      found: `${root} (${free.toFixed(1)} GB free; ONEVIDEO_CACHE or --cache-dir moves it)`,
    };
  } catch (error) {
    return {
      name: "frame store",
      ok: false,
      found: `${root}: ${(error as Error).message}`,
      fix: "set ONEVIDEO_CACHE to a writable folder",
    };
  }
}

function dataCheck(name: string, present: boolean, where: string, packageName: string): Check {
  return present
    ? { name, ok: true, found: where }
    : { name, ok: false, found: `not found (${where})`, fix: installAdvice([packageName]) };
}

/** The photographs the tours (and so the demo) walk past. */
function photosCheck(): Check {
  const name = "tour photos";
  try {
    return { name, ok: true, found: `${listPhotos().length} photographs in ${photoPackages.join(", ")}` };
  } catch {
    return { name, ok: false, found: "not found", fix: installAdvice(photoPackages) };
  }
}

export function doctorChecks(): Check[] {
  const fashionMnist = fashionMnistRoot();
  return [
    {
      name: "onevideo",
      ok: true,
      found: `${packageVersion()} (${isCheckout ? "checkout" : "package"} at ${packageRoot}), Node ${process.version}`,
    },
    ...addonChecks(),
    programCheck("ffmpeg", true),
    programCheck("ffprobe", true),
    frameStoreCheck(),
    photosCheck(),
    dataCheck("street video", existsSync(demoVideo), demoVideo, "opencv-doc"),
    dataCheck("Fashion-MNIST", existsSync(fashionMnist), fashionMnist, "dataset-fashion-mnist"),
  ];
}

export const command = defineCommand({
  name: "doctor",
  usage: "onevideo doctor [--json]",
  options: { json: jsonOption },
  notes: ["Exits 1 when something every training run needs (the addon, ffmpeg) is missing."],
  run(options) {
    const checks = doctorChecks();
    const width = Math.max(...checks.map((check) => check.name.length)) + 2;
    const lines = checks.map((check) => {
      const mark = check.ok ? "ok  " : check.required ? "FAIL" : "warn";
      const fix = check.fix ? `; ${check.fix}` : "";
      return `${mark} ${check.name.padEnd(width)}${check.found}${fix}`;
    });
    printResult(options.json, lines, { checks });
    if (checks.some((check) => !check.ok && check.required)) process.exitCode = 1;
  },
});
