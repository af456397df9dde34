#!/usr/bin/env bash
# Builds the CUDA tests and the hearth binary on the development machine and stages them for the GPU
# machine in .devbuild/ (ignored by git; passed to the device tool with carry: [".devbuild"]):
#   .devbuild/bin   stripped executables
#   .devbuild/lib   the Debian shared libraries hearth needs that the GPU machine lacks
# Usage: tools/device/stage_build.sh [build-dir]   (default build-cuda)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build-cuda}
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build "$BUILD" -j2 --target hearth engine_cuda_ops_test engine_cuda_matmul_test engine_cuda_model_test engine_cuda_state_test \
  engine_cuda_attention_test engine_cuda_attention_bench \
  engine_cuda_matvec_test engine_cuda_matvec_bench engine_cuda_delta_test engine_cuda_delta_bench engine_cuda_fused_test engine_cuda_moe_decode_test \
  engine_cuda_moe_decode_bench engine_cuda_gemm_bench
STAGE=$(mktemp -d)
mkdir -p "$STAGE/bin" "$STAGE/lib"
for exe in "$BUILD/src/app/hearth" "$BUILD"/tests/engine/engine_cuda_*_test "$BUILD"/tests/engine/engine_cuda_*_bench; do
  strip --strip-debug -o "$STAGE/bin/$(basename "$exe")" "$exe"
done
# Shared libraries from Debian packages (not glibc or the C++ runtime, which the GPU machine has).
ldd "$BUILD/src/app/hearth" "$BUILD"/tests/engine/engine_cuda_*_bench | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | while read -r lib; do
  case "$(basename "$lib")" in
    libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|libgcc_s.so*|libstdc++.so*|ld-linux*) ;;
    # cuBLAS (~700 MB) comes with the GPU machine's CUDA install, found through the binaries' RPATH.
    libcublas.so*|libcublasLt.so*) ;;
    *) cp -L "$lib" "$STAGE/lib/" ;;
  esac
done
# Compressed: the executables carry the same device code each and would exceed the 64 MiB transfer.
rm -rf "$ROOT/.devbuild"
mkdir -p "$ROOT/.devbuild"
tar -C "$STAGE" -cJf "$ROOT/.devbuild/stage.tar.xz" bin lib
rm -rf "$STAGE"
ls -la "$ROOT/.devbuild"
