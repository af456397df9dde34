#!/usr/bin/env bash
# The README's test command: installs dependencies, builds, and runs every test that needs no GPU
# (GPU tests carry the ctest label `gpu` and are excluded by that label alone).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
cd build
ctest --output-on-failure -LE gpu -j"$(nproc 2>/dev/null || echo 2)" "$@"
