#!/usr/bin/env bash
# Builds and stages only the decode matrix-vector / MoE test and benchmark binaries (brief H7) for the GPU
# machine, so uploads stay small: .devbuild-perf/stage.tar.xz (not .devbuild/: tools/device/stage_build.sh owns that) with bin/ (stripped) and lib/ (Debian shared
# libraries the benchmarks need), unpack there with tar -C .devbuild-perf -xJf .devbuild-perf/stage.tar.xz.
# Usage: tools/device/stage_perf.sh [build-dir]   (default build-perf)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build-perf}
TARGETS="engine_cuda_matvec_test engine_cuda_matvec_bench engine_cuda_moe_decode_test engine_cuda_moe_decode_bench"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build "$BUILD" -j2 --target $TARGETS
STAGE=$(mktemp -d)
mkdir -p "$STAGE/bin" "$STAGE/lib"
for t in $TARGETS; do strip --strip-debug -o "$STAGE/bin/$t" "$BUILD/tests/engine/$t"; done
ldd "$BUILD"/tests/engine/engine_cuda_*_bench | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u | while read -r lib; do
  case "$(basename "$lib")" in
    libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|libgcc_s.so*|libstdc++.so*|ld-linux*) ;;
    libcublas.so*|libcublasLt.so*) ;;
    *) cp -L "$lib" "$STAGE/lib/" ;;
  esac
done
rm -rf "$ROOT/.devbuild-perf"
mkdir -p "$ROOT/.devbuild-perf"
tar -C "$STAGE" -I 'xz -2 -T2' -cf "$ROOT/.devbuild-perf/stage.tar.xz" bin lib
rm -rf "$STAGE"
ls -la "$ROOT/.devbuild-perf"
