#!/usr/bin/env bash
# Builds the CUDA tests and the hearth binary on the development machine and stages them for the GPU
# machine in .devbuild/ (ignored by git; passed to the device tool with carry: [".devbuild"]):
#   .devbuild/bin   stripped executables
#   .devbuild/lib   the Debian shared libraries hearth needs that the GPU machine lacks
# Usage: tools/device/stage_build.sh [--tests NAME,...] [--benches NAME,...] [build-dir]   (default build-cuda)
#   Stages hearth and every GPU test binary (~57 MB compressed). Each executable carries all the device
#   code, so everything together passes the device tool's 64 MiB transfer: name the tests a run needs
#   (e.g. --tests slots,state,model for engine_cuda_slots_test, ...; "none" for hearth alone) and the
#   micro-benchmarks (e.g. --benches matvec,moe_decode for engine_cuda_matvec_bench, ...).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCHES=()
TESTS=(engine_cuda_ops_test engine_cuda_matmul_test engine_cuda_model_test engine_cuda_state_test engine_cuda_attention_test
       engine_cuda_matvec_test engine_cuda_delta_test engine_cuda_fused_test engine_cuda_moe_decode_test engine_cuda_slots_test
       engine_cuda_conformance_test)
while [ $# -gt 1 ]; do
  case "$1" in
    --benches) IFS=, read -r -a names <<< "$2"; for n in "${names[@]}"; do BENCHES+=("engine_cuda_${n}_bench"); done; shift 2 ;;
    --tests) TESTS=(); [ "$2" = none ] || { IFS=, read -r -a names <<< "$2"; for n in "${names[@]}"; do TESTS+=("engine_cuda_${n}_test"); done; }
             shift 2 ;;
    *) break ;;
  esac
done
BUILD=${1:-$ROOT/build-cuda}
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
