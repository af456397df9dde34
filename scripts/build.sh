#!/usr/bin/env bash
# Configures and builds hearth into build/ (Release with debug info).
# Usage: scripts/build.sh [TARGET...] [-CMAKE_OPTION...]
#   TARGET: what to build (e.g. `hearth`, the server binary alone); none: everything, tests included.
#   Arguments that start with '-' (e.g. -DHEARTH_CUDA=OFF) go to cmake's configure step.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
cmake_options=()
targets=()
for arg in "$@"; do
  if [[ "$arg" == -* ]]; then cmake_options+=("$arg"); else targets+=(--target "$arg"); fi
done
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo "${cmake_options[@]}" >/dev/null
cmake --build build -j"$jobs" "${targets[@]}"
