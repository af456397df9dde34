#!/usr/bin/env bash
# On the GPU machine: the decode matrix-vector / MoE tests and benchmarks staged by
# tools/device/stage_perf.sh (.devbuild-perf). Logs to $OUT; a short table printed last.
#   tools/device/perf_run.sh [matvec-test] [moe-test] [matvec-bench[=FILTER]] [moe-bench[=FILTER]] [base-moe-bench[=FILTER]]
#                            [sass=KERNEL_NAME_REGEX]
# base-*: the same benchmark built from an earlier commit, staged by hand in .devbuild-perf/base/ (before/after
# on the same card in one call).
set -uo pipefail
OUT=${OUT:-/tmp/hearth-perf-out}
mkdir -p "$OUT"
ROOT=$(pwd)
D="$ROOT/.devbuild-perf"
[ -d "$D/bin" ] || tar -C "$D" -xJf "$D/stage.tar.xz"
export LD_LIBRARY_PATH="$D/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if [ ! -e /work/main/testdata ]; then mkdir -p /work && ln -sfn "$ROOT" /work/main; fi
SUMMARY="$OUT/summary.txt"
# Appends: several calls in one command share the summary; PERF_LABEL (default "default") names the
# benchmark logs of one call, e.g. before/after a change.
VARIANT=${PERF_LABEL:-default}
{ date -u; git log -1 --format='commit %h %s' 2>/dev/null; nvidia-smi --query-gpu=name,clocks.sm,clocks.mem --format=csv,noheader
  echo "PERF_LABEL=$VARIANT"; } >> "$SUMMARY" 2>&1
for step in "$@"; do
  name=${step%%=*}
  filter=.
  [[ "$step" == *=* ]] && filter=${step#*=}
  case "$name" in
    matvec-test|moe-test)
      bin=engine_cuda_${name%-test}_test; [ "$name" = moe-test ] && bin=engine_cuda_moe_decode_test
      timeout 300 "$D/bin/$bin" --gtest_color=no > "$OUT/$name.log" 2>&1
      echo "$name rc=$? $(grep -E '^\[  (PASSED|FAILED)  \]' "$OUT/$name.log" | tr '\n' ' ')" >> "$SUMMARY"
      grep -E '^\[  FAILED  \]' "$OUT/$name.log" | sort -u | head -20 >> "$SUMMARY" ;;
    matvec-bench|moe-bench|base-matvec-bench|base-moe-bench)
      bin=bin/engine_cuda_matvec_bench
      [[ "$name" == *moe-bench ]] && bin=bin/engine_cuda_moe_decode_bench
      [[ "$name" == base-* ]] && bin=base/$(basename "$bin")
      log="$OUT/$name-$VARIANT.log"
      timeout 300 "$D/$bin" --benchmark_min_time=0.05 --benchmark_filter="$filter" > "$log" 2>&1
      echo "$name rc=$?" >> "$SUMMARY"
      # name, time, TB/s
      awk '/^(matvec|deltanet|moe)/ {tb=""; for (i = 1; i <= NF; ++i) if ($i ~ /^TB\/s=/) tb = $i; printf "%-44s %9s %s %s\n", $1, $2, $3, tb}' \
        "$log" >> "$SUMMARY" ;;
    sass)  # opcode counts of the matrix-vector kernels whose names match FILTER
      cuobjdump -sass "$D/bin/engine_cuda_matvec_bench" 2>/dev/null | awk -v pat="$filter" '
        /Function :/ { on = ($0 ~ pat); if (on) { name = $3; print "== " name > "/dev/stderr" } next }
        on && /\/\*[0-9a-f]+\*\// { for (i = 1; i <= NF; ++i) if ($i ~ /^[A-Z][A-Z0-9_.]+$/) { split($i, a, "."); n[name " " a[1]]++; break } }
        END { for (k in n) print n[k], k }' 2>/dev/null | sort -k2,2 -k1,1nr | awk '{ c[$2]++; if (c[$2] <= 14) print }' > "$OUT/sass.txt"
      cat "$OUT/sass.txt" >> "$SUMMARY" ;;
    *) echo "unknown step $step" >> "$SUMMARY" ;;
  esac
done
cat "$SUMMARY"
