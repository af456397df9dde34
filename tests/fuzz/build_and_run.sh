#!/usr/bin/env bash
# Builds the output parser's libFuzzer target with clang (the project itself compiles with GCC) and runs
# it on a scratch copy of the committed seed corpus, so the corpus in the repository never changes.
#   tests/fuzz/build_and_run.sh OUT_DIR [libFuzzer flags...]
#   e.g. tests/fuzz/build_and_run.sh build/fuzz -runs=20000           (what ctest runs)
#        tests/fuzz/build_and_run.sh build/fuzz -max_total_time=600   (a long run)
# New interesting inputs land in OUT_DIR/corpus; crashes in OUT_DIR/crash-*.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:?usage: build_and_run.sh OUT_DIR [libFuzzer flags...]}"
shift
mkdir -p "$out/corpus"
out="$(cd "$out" && pwd)"
cxx="${CLANGXX:-clang++}"

sources=(
  "$root/tests/fuzz/parser_fuzz.cpp"
  "$root/src/chat/output_parser.cpp"
  "$root/src/chat/output_parser_blocks.cpp"
  "$root/src/chat/json_typing.cpp"
  "$root/src/chat/tool_call_json.cpp"
  "$root/src/util/utf8.cpp"
)
bin="$out/parser_fuzz"
# Rebuild when any source or header it may include is newer than the binary.
if [ ! -x "$bin" ] || [ -n "$(find "${sources[@]}" "$root/src/chat" "$root/src/util" "$root/src/api" \
      "$root/tests/chat" -newer "$bin" \( -name '*.h' -o -name '*.cpp' \) 2>/dev/null | head -1)" ]; then
  "$cxx" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$root/src" -I"$root/tests/chat" "${sources[@]}" -o "$bin.tmp"
  mv "$bin.tmp" "$bin"
fi

cd "$out"
exec "$bin" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$@" corpus "$root/tests/fuzz/corpus/parser"
