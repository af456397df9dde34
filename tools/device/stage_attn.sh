#!/usr/bin/env bash
# Builds and stages the prefill-attention test and the hearth binary (brief H8) for the GPU machine:
# .devattn/stage.tar.xz (ignored via .git/info/exclude) with bin/ (stripped) and lib/ (the Debian shared
# libraries hearth needs); unpack there with tar -C .devattn -xJf .devattn/stage.tar.xz.
# Usage: tools/device/stage_attn.sh [build-dir]   (default build-attn)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build-attn}
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build "$BUILD" -j2 --target hearth engine_cuda_attention_test
STAGE=$(mktemp -d)
mkdir -p "$STAGE/bin" "$STAGE/lib"
strip --strip-debug -o "$STAGE/bin/hearth" "$BUILD/src/app/hearth"
strip --strip-debug -o "$STAGE/bin/engine_cuda_attention_test" "$BUILD/tests/engine/engine_cuda_attention_test"
ldd "$BUILD/src/app/hearth" | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u | while read -r lib; do
  case "$(basename "$lib")" in
    libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|libgcc_s.so*|libstdc++.so*|ld-linux*) ;;
    libcublas.so*|libcublasLt.so*) ;;  # the GPU machine's CUDA install has them
    *) cp -L "$lib" "$STAGE/lib/" ;;
  esac
done
rm -rf "$ROOT/.devattn"
mkdir -p "$ROOT/.devattn"
tar -C "$STAGE" -cJf "$ROOT/.devattn/stage.tar.xz" bin lib
rm -rf "$STAGE"
ls -la "$ROOT/.devattn"
