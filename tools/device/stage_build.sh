#!/usr/bin/env bash
# Builds the CUDA tests and the hearth binary on the development machine and stages them for the GPU
# machine in .devbuild/ (ignored by git; passed to the device tool with carry: [".devbuild"]):
#   .devbuild/bin   stripped executables
#   .devbuild/lib   the Debian shared libraries hearth needs that the GPU machine lacks
# Usage: tools/device/stage_build.sh [--benches NAME,...] [build-dir]   (default build-cuda)
#   Stages hearth and every GPU test binary (~52 MB compressed). Each executable carries all the device
#   code, so staging every micro-benchmark too would pass the device tool's 64 MiB: name the ones a run
#   needs (e.g. --benches matvec,moe_decode for engine_cuda_matvec_bench and engine_cuda_moe_decode_bench).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCHES=()
if [ "${1:-}" = "--benches" ]; then
  IFS=, read -r -a names <<< "$2"
  for n in "${names[@]}"; do BENCHES+=("engine_cuda_${n}_bench"); done
  shift 2
fi
BUILD=${1:-$ROOT/build-cuda}
TESTS=(engine_cuda_ops_test engine_cuda_matmul_test engine_cuda_model_test engine_cuda_state_test engine_cuda_attention_test
       engine_cuda_matvec_test engine_cuda_delta_test engine_cuda_fused_test engine_cuda_moe_decode_test engine_cuda_slots_test
       engine_cuda_conformance_test)
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build "$BUILD" -j2 --target hearth "${TESTS[@]}" "${BENCHES[@]}"
STAGE=$(mktemp -d)
mkdir -p "$STAGE/bin" "$STAGE/lib"
for exe in "$BUILD/src/app/hearth" "${TESTS[@]/#/$BUILD/tests/engine/}" "${BENCHES[@]/#/$BUILD/tests/engine/}"; do
  strip --strip-debug -o "$STAGE/bin/$(basename "$exe")" "$exe"
done
# Shared libraries from Debian packages (not glibc or the C++ runtime, which the GPU machine has).
ldd "$BUILD/src/app/hearth" "${BENCHES[@]/#/$BUILD/tests/engine/}" | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | while read -r lib; do
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
