#!/usr/bin/env bash
# Builds the native addon (native/) into build/native/onevideo_native.node.
#   LIBTORCH=/path/to/libtorch   build against that libtorch (a folder with share/cmake/Torch,
#                                e.g. the torch/ folder of a PyTorch wheel); default: Debian's.
#   NODE_INCLUDE_DIR=/path       folder holding node_api.h (default: next to this node binary).
#   NCCL_INCLUDE_DIR=/path       folder holding nccl.h, for NCCL collectives in a CUDA build
#                                (a wheel's is site-packages/nvidia/nccl/include).
set -euo pipefail
cd "$(dirname "$0")/.."

node_include=${NODE_INCLUDE_DIR:-$(node -p "require('path').resolve(process.execPath, '../../include/node')")}
addon_api=$(node -p "require('path').resolve(require('node-addon-api').include_dir)")
if [ ! -f "$node_include/node_api.h" ]; then
  echo "build-native: node_api.h not found in $node_include; set NODE_INCLUDE_DIR to the folder holding it" >&2
  exit 1
fi

mkdir -p build
args=(-S native -B build/native -DCMAKE_BUILD_TYPE=Release
  -DNODE_INCLUDE_DIR="$node_include" -DNODE_ADDON_API_DIR="$addon_api")
if [ -n "${NCCL_INCLUDE_DIR:-}" ]; then
  args+=(-DNCCL_INCLUDE_DIR="$NCCL_INCLUDE_DIR")
fi
if [ -n "${LIBTORCH:-}" ]; then
  args+=(-DCMAKE_PREFIX_PATH="$LIBTORCH")
fi
cmake "${args[@]}" > build/native-configure.log 2>&1 || {
  cat build/native-configure.log >&2
  echo "build-native: cmake could not configure; is libtorch installed (scripts/setup.sh) or LIBTORCH set?" >&2
  exit 1
}
cmake --build build/native -j "$(nproc)"
echo "build-native: built build/native/onevideo_native.node"
