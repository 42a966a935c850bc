#!/usr/bin/env bash
# Sets up this checkout on a Debian machine: system packages (as root), npm packages,
# and the native addon. Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

# libtorch + OpenBLAS are the engine; python3-torch (with python3-torchvision for the ResNets) is
# the reference the tests compare to; ffmpeg decodes video; opencv-doc ships the real test videos;
# dataset-fashion-mnist is the
# labelled set the k-NN evaluation and its tests read (and the tours benchmark's objects);
# mate-backgrounds and plasma-workspace-wallpapers hold the photos the tours benchmark walks past;
# chromium opens the pages the tests check headless (the analysis and run reports, the web export);
# libgloo-dev holds the Gloo headers the addon needs for data-parallel training on the CPU.
packages=(cmake g++ libtorch-dev libgloo-dev libopenblas0-openmp python3-torch python3-torchvision ffmpeg opencv-doc dataset-fashion-mnist
  mate-backgrounds plasma-workspace-wallpapers chromium)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]}; run this script as root (sudo bash scripts/setup.sh)" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages, when package-lock.json changed since the last install.
stamp=node_modules/.onevideo-lock-hash
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash" ]; then
  echo "setup: installing npm packages"
  # onnxruntime-node's install step would download CUDA files; its CPU binaries ship inside it.
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > "$stamp"
fi

# The addon; cmake rebuilds only what changed.
bash scripts/build-native.sh | tail -n 1
