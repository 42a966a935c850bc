// What the addon sets up at load: threads, BLAS, CPU-specific tuning.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { test } from "node:test";
import { getNumThreads, libtorchVersion, setNumThreads } from "../../src/torch/index.ts";
import { loadedBlasLibrary } from "../../src/torch/native.ts";

test("intra-op threads default to the core count (or ONEVIDEO_THREADS)", () => {
  const expected = Number(process.env.ONEVIDEO_THREADS ?? availableParallelism());
  assert.equal(getNumThreads(), expected);
  setNumThreads(1);
  assert.equal(getNumThreads(), 1);
  setNumThreads(expected);
  assert.throws(() => setNumThreads(0), /positive integer/);
});

test("libtorch runs on an optimised BLAS, and avx512 CPUs get OpenBLAS's SkylakeX kernels", () => {
  const blas = loadedBlasLibrary();
  assert.ok(blas, "no BLAS library is mapped");
  assert.match(blas, /openblas|mkl|blis/i);
  if (/\bavx512f\b/.test(readFileSync("/proc/cpuinfo", "utf8"))) {
    assert.ok(process.env.OPENBLAS_CORETYPE, "OPENBLAS_CORETYPE was not set on an avx512 CPU");
  }
  assert.match(libtorchVersion(), /^\d+\.\d+/);
});
