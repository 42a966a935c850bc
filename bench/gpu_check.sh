#!/usr/bin/env bash
# The GPU check: every GPU figure onevideo reports, gathered by one script into one JSON file,
# on a machine that has this checkout, a CUDA PyTorch for python3 and nothing else (no node,
# no ffmpeg, no network). Three modes:
#
#   bash bench/gpu_check.sh prepare        here, after scripts/setup.sh: fills .device/ (git
#                                          ignores it) with what the GPU machine lacks: node, its
#                                          N-API headers, the npm packages, a generated 1080p
#                                          tour with its frame store, Fashion-MNIST for k-NN
#   bash bench/gpu_check.sh run OUT.json   on the GPU machine, the checkout and .device/ there:
#                                          builds the addon against python3's CUDA libtorch, runs
#                                          the CUDA tests, bench:gpu (DINO and DoRA, ViT-S/16,
#                                          224 px, bf16, DoRA's official views and sampling) and
#                                          a short DoRA run on the tour scored by k-NN before and
#                                          after; about 8 minutes on an H100
#   bash bench/gpu_check.sh dry OUT.json   here, on the CPU at tiny sizes: the same steps through
#                                          the same code, so that GPU minutes go to figures
#
# Each step's output goes to stderr as it runs; OUT.json gets one object with every figure
# (a step that failed is recorded with its exit code, and the script goes on to the next).
set -uo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
device_dir=.device

# The learning run's video: a generated 1080p tour, 17 s (510 frames, so that DoRA's official
# clips of 8 frames 60 apart start at 30 of them), re-encoded at a high CRF to travel light.
# The GPU machine has no ffmpeg: its frame store is made here, at the short side a 96-px view
# crops from, and found there by the video's content.
tour_seconds=17
learn_image=96

prepare() {
  set -e
  mkdir -p "$device_dir"
  echo "gpu_check: node, its headers and the npm packages" >&2
  [ -f "$device_dir/node.xz" ] || xz -T0 -6 -c "$(command -v node)" > "$device_dir/node.xz"
  tar -C "$(node -p "require('path').resolve(process.execPath, '../../include')")" -cJf "$device_dir/node-include.tar.xz" node
  # What the checkout runs with: tsx (and its esbuild) for the TypeScript, and the dependencies.
  tar -cJf "$device_dir/node_modules.tar.xz" node_modules/tsx node_modules/esbuild node_modules/@esbuild/linux-x64 \
    node_modules/zod node_modules/yaml node_modules/node-addon-api
  echo "gpu_check: a ${tour_seconds}-s 1080p tour and its frame store" >&2
  local work=/tmp/onevideo-gpu-check-prepare
  rm -rf "$work" "$device_dir/tour.mp4" "$device_dir/frames.tar.xz"
  node bin/onevideo.js tours --out "$work/tour" --width 1920 --height 1080 --fps 30 \
    --seconds "$tour_seconds" --sequences 0 > /dev/null
  ffmpeg -v error -i "$work/tour/tour.mp4" -c:v libx264 -crf 35 -preset veryfast -pix_fmt yuv420p "$device_dir/tour.mp4"
  ONEVIDEO_CACHE="$work/frames" BENCH_VIDEO="$device_dir/tour.mp4" BENCH_PREPARE_ONLY=1 \
    BENCH_IMAGE=$learn_image node --import tsx bench/learning_check.ts
  tar -C "$work" -cf - frames | xz -T0 -6 > "$device_dir/frames.tar.xz"
  echo "gpu_check: the first 10000 Fashion-MNIST training images and 2000 test images" >&2
  mkdir -p "$work/fashion-mnist"
  node -e '
    // An IDX file cut to its first n items: the count in the header, then n items of bytes.
    const { gunzipSync } = require("zlib"), fs = require("fs");
    const [from, to, ...counts] = process.argv.slice(1);
    for (const [split, n] of [["train", +counts[0]], ["t10k", +counts[1]]]) {
      for (const [kind, item] of [["images-idx3", 28 * 28], ["labels-idx1", 1]]) {
        const name = `${split}-${kind}-ubyte`;
        const bytes = gunzipSync(fs.readFileSync(`${from}/${name}.gz`));
        const header = bytes[3] * 4 + 4;
        bytes.writeUInt32BE(n, 4);
        fs.writeFileSync(`${to}/${name}`, bytes.subarray(0, header + n * item));
      }
    }
  ' "${ONEVIDEO_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}" "$work/fashion-mnist" 10000 2000
  tar -C "$work" -cf - fashion-mnist | xz -T0 -6 > "$device_dir/fashion-mnist.tar.xz"
  rm -rf "$work"
  du -sh "$device_dir" >&2
}

# node, its headers and the npm packages from .device/ where the machine has none.
bring_node() {
  if ! command -v node > /dev/null; then
    mkdir -p /tmp/onevideo-node/bin
    xz -dc "$device_dir/node.xz" > /tmp/onevideo-node/bin/node && chmod +x /tmp/onevideo-node/bin/node
    export PATH=/tmp/onevideo-node/bin:$PATH
  fi
  if [ ! -d node_modules/tsx ]; then tar -xJf "$device_dir/node_modules.tar.xz"; fi
  if [ ! -f /tmp/onevideo-node/include/node/node_api.h ]; then
    mkdir -p /tmp/onevideo-node/include && tar -C /tmp/onevideo-node/include -xJf "$device_dir/node-include.tar.xz"
  fi
  # The tour's frame store and the Fashion-MNIST subset.
  mkdir -p /tmp/onevideo-gpu-check
  [ -d /tmp/onevideo-gpu-check/frames ] || tar -C /tmp/onevideo-gpu-check -xJf "$device_dir/frames.tar.xz"
  [ -d /tmp/onevideo-gpu-check/fashion-mnist ] || tar -C /tmp/onevideo-gpu-check -xJf "$device_dir/fashion-mnist.tar.xz"
}

declare -A results
# Runs one step, its output to stderr and to a log; records the log's JSON lines and exit code.
step() {
  local name=$1
  shift
  local log=/tmp/onevideo-gpu-check-$name.log
  local started=$SECONDS
  echo "gpu_check: $name" >&2
  "$@" 2>&1 | tee "$log" >&2
  local code=${PIPESTATUS[0]}
  results[$name]=$(node -e '
    const [log, code, seconds] = process.argv.slice(1);
    const lines = require("fs").readFileSync(log, "utf8").split("\n");
    const json = lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
    const tap = Object.fromEntries(lines.map((l) => /^# (pass|fail|skipped) (\d+)/.exec(l)).filter(Boolean).map((m) => [m[1], +m[2]]));
    console.log(JSON.stringify({ exit: +code, seconds: +seconds, ...(Object.keys(tap).length ? { tests: tap } : {}), results: json }));
  ' "$log" "$code" "$((SECONDS - started))")
}

check() {
  local out=$1 dry=$2
  bring_node
  export ONEVIDEO_CACHE=/tmp/onevideo-gpu-check/frames ONEVIDEO_FASHION_MNIST=/tmp/onevideo-gpu-check/fashion-mnist
  local started=$SECONDS
  if [ "$dry" = 1 ]; then
    # Here python3-torch is Debian's; on the GPU machine, the python3 on PATH.
    export BENCH_PYTHON=${BENCH_PYTHON:-/usr/bin/python3}
    results[build]='{"skipped": "dry mode uses the addon already built"}'
    export BENCH_DEVICE=cpu BENCH_ARCH=vit_tiny BENCH_IMAGE=32 BENCH_BATCH=16 BENCH_STEPS=1 BENCH_WARMUP=1 \
      BENCH_ROUNDS=1 BENCH_OUT_DIM=256 BENCH_PRECISION=fp32
    learn=(BENCH_ARCH=vit_tiny BENCH_PATCH=16 BENCH_IMAGE=$learn_image BENCH_BATCH=8 BENCH_STEPS=2 BENCH_KNN_TRAIN=200
      BENCH_KNN_TEST=100 BENCH_OPTIONS='{"localCrops": 2, "outDim": 256}')
  else
    local torch nccl
    torch=$(python3 -c "import torch, os; print(os.path.dirname(torch.__file__))")
    nccl=$(python3 -c "import nvidia.nccl, os; print(os.path.join(list(nvidia.nccl.__path__)[0], 'include'))" 2> /dev/null || true)
    step build env LIBTORCH="$torch" NODE_INCLUDE_DIR=/tmp/onevideo-node/include/node NCCL_INCLUDE_DIR="$nccl" \
      bash scripts/build-native.sh
    export BENCH_PYTHON=${BENCH_PYTHON:-python3} BENCH_ROUNDS=${BENCH_ROUNDS:-3}
    learn=(BENCH_IMAGE=$learn_image BENCH_STEPS=${BENCH_LEARN_STEPS:-300})
  fi
  step cuda_tests node --import tsx --test test/torch/cuda.test.ts
  step bench_gpu npm run --silent bench:gpu
  step learning env BENCH_VIDEO="$device_dir/tour.mp4" "${learn[@]}" node --import tsx bench/learning_check.ts
  node -e '
    const [out, mode, seconds, ...pairs] = process.argv.slice(1);
    const record = { mode, seconds: +seconds, machine: require("os").cpus()[0].model };
    for (let i = 0; i < pairs.length; i += 2) record[pairs[i]] = JSON.parse(pairs[i + 1]);
    require("fs").writeFileSync(out, JSON.stringify(record, null, 1) + "\n");
  ' "$out" "$mode" "$((SECONDS - started))" build "${results[build]}" cuda_tests "${results[cuda_tests]}" \
    bench_gpu "${results[bench_gpu]}" learning "${results[learning]}"
  echo "gpu_check: wrote $out" >&2
}

case $mode in
  prepare) prepare ;;
  run) check "${2:?give the JSON file to write}" 0 ;;
  dry) check "${2:?give the JSON file to write}" 1 ;;
  *)
    echo "usage: bash bench/gpu_check.sh prepare | run OUT.json | dry OUT.json" >&2
    exit 2
    ;;
esac
