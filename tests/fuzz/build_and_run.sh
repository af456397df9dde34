#!/usr/bin/env bash
# Builds one libFuzzer target of this folder with clang (the project itself compiles with GCC) and runs
# it on a scratch copy of the target's committed seed corpus, so the corpus in the repository never
# changes.
#   tests/fuzz/build_and_run.sh TARGET OUT_DIR [libFuzzer flags...]
#   e.g. tests/fuzz/build_and_run.sh request build/fuzz/request -runs=5000          (what ctest runs)
#        nice -n 19 tests/fuzz/build_and_run.sh request build/fuzz/request -max_total_time=600   (a long run)
# TARGET: parser, request, encoder, tokenizer, loaders, snapshot (TARGET_fuzz.cpp; seeds in corpus/TARGET).
# New interesting inputs land in OUT_DIR/corpus; crashes in OUT_DIR/crash-*. To keep the committed
# corpus small, merge a long run's findings into it with -merge=1 (docs/RELIABILITY.md).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
target="${1:?usage: build_and_run.sh TARGET OUT_DIR [libFuzzer flags...]}"
out="${2:?usage: build_and_run.sh TARGET OUT_DIR [libFuzzer flags...]}"
shift 2
mkdir -p "$out/corpus"
out="$(cd "$out" && pwd)"
cxx="${CLANGXX:-clang++}"

tokenizer_sources=(src/chat/tokenizer.cpp src/chat/tokenizer_bpe.cpp src/chat/tokenizer_spec.cpp
  src/chat/tokenizer_added.cpp src/chat/tokenizer_normalizer.cpp src/chat/pretokenizer.cpp src/chat/bpe_model.cpp
  src/chat/bpe_byte_level.cpp src/util/utf8.cpp)
tokenizer_libs=(/usr/lib/x86_64-linux-gnu/libpcre2-8.a /usr/lib/x86_64-linux-gnu/libutf8proc.a)
includes=(-I"$root/src")
libs=()
case "$target" in
  parser)
    sources=(src/chat/output_parser.cpp src/chat/output_parser_blocks.cpp src/chat/json_typing.cpp
      src/chat/tool_call_json.cpp src/util/utf8.cpp)
    includes+=(-I"$root/tests/chat") ;;
  request) sources=(src/api/request_parser.cpp src/api/json_fields.cpp src/api/errors.cpp src/util/utf8.cpp) ;;
  encoder)
    sources=(src/api/response_encoding.cpp src/api/message_composer.cpp src/api/stop_sequences.cpp
      src/api/thinking_signature.cpp src/api/sha256.cpp src/api/ids.cpp src/api/errors.cpp src/util/utf8.cpp) ;;
  tokenizer) sources=("${tokenizer_sources[@]}"); libs=("${tokenizer_libs[@]}") ;;
  loaders)
    sources=("${tokenizer_sources[@]}" src/engine/config.cpp src/engine/safetensors.cpp src/engine/weight_formats.cpp)
    libs=("${tokenizer_libs[@]}") ;;
  snapshot) sources=(src/cache/disk_store.cpp); includes+=(-I"$root/tests/cache") ;;
  *) echo "unknown fuzz target: $target" >&2; exit 2 ;;
esac
sources=("tests/fuzz/${target}_fuzz.cpp" "${sources[@]}")
sources=("${sources[@]/#/$root/}")

bin="$out/${target}_fuzz"
# Rebuild when any source or header it may include is newer than the binary.
if [ ! -x "$bin" ] || [ -n "$(find "${sources[@]}" "$root/src" "$root/tests/fuzz" "$root/tests/chat" "$root/tests/cache" \
      -newer "$bin" \( -name '*.h' -o -name '*.cpp' \) 2>/dev/null | head -1)" ]; then
  # One object per source, compiled in parallel (a first ctest run builds every target this way).
  flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
    -DPCRE2_STATIC -DUTF8PROC_STATIC "${includes[@]}")
  mkdir -p "$out/obj"
  objects=()
  for src in "${sources[@]}"; do objects+=("$out/obj/$(basename "${src%.cpp}").o"); done
  printf '%s\n' "${sources[@]}" | xargs -P "$(nproc 2>/dev/null || echo 2)" -I{} sh -c \
    'src="$1"; cxx="$2"; shift 2; exec "$cxx" "$@" -c "$src" -o "$0/obj/$(basename "${src%.cpp}").o"' \
    "$out" {} "$cxx" "${flags[@]}"
  "$cxx" "${flags[@]}" "${objects[@]}" "${libs[@]}" -o "$bin.tmp"
  mv "$bin.tmp" "$bin"
fi

seeds="$root/tests/fuzz/corpus/$target"
mkdir -p "$out/crashes"
cd "$out"
export HEARTH_SOURCE_DIR="$root"
exec "$bin" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 -artifact_prefix="$out/crashes/" \
  "$@" corpus "$seeds"
