#!/usr/bin/env bash
# Runs the CUDA backend's GPU tests and the engine benchmarks on the GPU machine, from binaries built
# on the development machine by tools/device/stage_build.sh (.devbuild/bin + .devbuild/lib).
#
#   tools/device/gpu_suite.sh [tests] [tests-paging] [sanitize] [bench35] [bench35-short] [bench27] [bench27-full] [cache35]
#                             [batch35] [batch27] [batch-profile35] [serve35] [serve27] [context262k] [attention-bench] [matvec-bench] [delta-bench] [moe-bench]
#
# Logs go to $OUT (at most 8 files come back from the GPU machine): env.txt, tests.log, sanitize.log,
# bench-<model>.log/.json. A short summary is printed last.
set -uo pipefail
OUT=${OUT:-/tmp/hearth-gpu-out}
mkdir -p "$OUT"
ROOT=$(pwd)
if [ -f "$ROOT/.devbuild/stage.tar.xz" ] && [ ! -d "$ROOT/.devbuild/bin" ]; then
  tar -C "$ROOT/.devbuild" -xJf "$ROOT/.devbuild/stage.tar.xz"
fi
BIN="$ROOT/.devbuild/bin"
export LD_LIBRARY_PATH="$ROOT/.devbuild/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# The engine test binaries read the tiny models from here (tests/engine/reference_data.h).
export HEARTH_TESTDATA_DIR="$ROOT/testdata"
# Other test data is still found at the absolute path the binaries were built with.
if [ ! -e /work/main/testdata ]; then mkdir -p /work && ln -sfn "$ROOT" /work/main; fi

{
  date -u
  git log -1 --format='commit %H %s' 2>/dev/null || true
  nvidia-smi --query-gpu=name,memory.total,memory.used,clocks.sm,clocks.mem,power.limit --format=csv
} > "$OUT/env.txt" 2>&1
SUMMARY="$OUT/summary.txt"
: > "$SUMMARY"

ALL_TESTS="engine_cuda_ops_test engine_cuda_matmul_test engine_cuda_model_test engine_cuda_state_test engine_cuda_slots_test \
           engine_cuda_matvec_test engine_cuda_attention_test engine_cuda_delta_test engine_cuda_fused_test engine_cuda_moe_decode_test \
           engine_cuda_conformance_test"
# The tests that the engine state (slots, KV pages, snapshots) reaches; kernels-only tests left out.
PAGING_TESTS="engine_cuda_slots_test engine_cuda_state_test engine_cuda_model_test engine_cuda_ops_test engine_cuda_fused_test engine_cuda_delta_test engine_cuda_conformance_test"

run_tests() {  # test binaries...
  : > "$OUT/tests.log"
  for t in "$@"; do
    echo "=== $t" >> "$OUT/tests.log"
    timeout 200 "$BIN/$t" --gtest_color=no >> "$OUT/tests.log" 2>&1
    local rc=$?
    local line
    line=$(grep -E '^\[  (PASSED|FAILED)  \]|tests? ran' "$OUT/tests.log" | tail -2 | tr '\n' ' ')
    echo "$t rc=$rc $line" >> "$SUMMARY"
  done
  grep -E '^\[  FAILED  \]' "$OUT/tests.log" | sort -u | head -40 >> "$SUMMARY"
  grep -E 'cuda largest error' "$OUT/tests.log" >> "$SUMMARY"
}

run_sanitize() {
  timeout 300 compute-sanitizer --tool memcheck --error-exitcode 9 "$BIN/engine_cuda_ops_test" --gtest_color=no \
    > "$OUT/sanitize.log" 2>&1
  echo "memcheck engine_cuda_ops_test rc=$?" >> "$SUMMARY"
  tail -5 "$OUT/sanitize.log" >> "$SUMMARY"
}

run_bench() {  # name config extra-args...
  local name=$1 config=$2
  shift 2
  timeout 540 "$BIN/hearth" bench-engine --config "$config" --load-format dummy --device cuda \
    --json "$OUT/bench-$name.json" "$@" > "$OUT/bench-$name.log" 2>&1
  echo "bench $name rc=$?" >> "$SUMMARY"
  cat "$OUT/bench-$name.log" >> "$SUMMARY"
}

# One micro-benchmark binary: its whole output appended to $OUT/microbench.log (few files come back from
# the GPU machine), its result lines (matching PATTERN) to the summary.
run_micro() {  # label binary min-time pattern
  local label=$1 binary=$2 min_time=$3 pattern=$4 log=/tmp/hearth-micro-$1.log
  timeout 300 "$BIN/$binary" --benchmark_min_time="$min_time" > "$log" 2>&1
  echo "$label rc=$?" >> "$SUMMARY"
  { echo "=== $label"; cat "$log"; } >> "$OUT/microbench.log"
  grep -E "$pattern" "$log" >> "$SUMMARY"
}

run_cache() {  # issue 6: an agent session growing to ~40k tokens in 20 turns of ~1k new tokens
  local dir=/tmp/hearth-shape-35b
  mkdir -p "$dir" && cp bench/shapes/qwen3.6-35b-a3b-4bit.config.json "$dir/config.json"
  timeout 400 "$BIN/hearth" bench-cache --model "$dir" --dummy --device cuda --turns 20 --static-tokens 20000 \
    --new-tokens 1000 --output-tokens 32 --json "$OUT/cache-35b-a3b.json" > "$OUT/cache-35b-a3b.log" 2>&1
  echo "bench-cache 35b-a3b rc=$?" >> "$SUMMARY"
  cat "$OUT/cache-35b-a3b.log" >> "$SUMMARY"
}

run_serve() {  # issue 11: N concurrent agent sessions through the scheduler (bench-serve)
  local name=$1 config=$2 sessions=$3 dir=/tmp/hearth-shape-$1
  mkdir -p "$dir" && cp "$config" "$dir/config.json"
  timeout 540 "$BIN/hearth" bench-serve --model "$dir" --dummy --device cuda --sessions "$sessions" --turns 3 \
    --shared-tokens 20000 --new-tokens 1000 --output-tokens 128 --json "$OUT/serve-$name.json" > "$OUT/serve-$name.log" 2>&1
  echo "bench-serve $name rc=$?" >> "$SUMMARY"
  cat "$OUT/serve-$name.log" >> "$SUMMARY"
}

for step in "$@"; do
  case "$step" in
    tests) run_tests $ALL_TESTS ;;
    tests-paging) run_tests $PAGING_TESTS ;;
    sanitize) run_sanitize ;;
    bench35-short) run_bench 35b-a3b bench/shapes/qwen3.6-35b-a3b-4bit.config.json --prompts 512,8192 \
                     --contexts 0,8192 --profile 0 ;;
    bench35) run_bench 35b-a3b bench/shapes/qwen3.6-35b-a3b-4bit.config.json --profile 0,32768 --profile-prefill 8192 ;;
    bench27) run_bench 27b bench/shapes/qwen3.6-27b-4bit.config.json --prompts 512,8192 --contexts 0,8192 --profile 0 \
               --profile-prefill 8192 ;;
    bench27-full) run_bench 27b bench/shapes/qwen3.6-27b-4bit.config.json --profile 0 ;;
    cache35) run_cache ;;
    # Sequences decoded together (continuous batching's decode side): aggregate and per-sequence tokens/s.
    batch35) run_bench batch-35b-a3b bench/shapes/qwen3.6-35b-a3b-4bit.config.json --prompts 8192 --contexts 0,32768 \
               --batch 1,2,4,8,16 --batch-context 1024 ;;
    batch27) run_bench batch-27b bench/shapes/qwen3.6-27b-4bit.config.json --prompts 8192 --contexts 0 \
               --batch 1,2,4,8 --batch-context 1024 ;;
    serve35) run_serve 35b-a3b bench/shapes/qwen3.6-35b-a3b-4bit.config.json 1,2,4,8,16 ;;
    serve27) run_serve 27b bench/shapes/qwen3.6-27b-4bit.config.json 1,2,4,8 ;;
    # Where a batched step's time goes: per-op GPU time of eager steps of 8 sequences.
    batch-profile35) run_bench batch-profile-35b-a3b bench/shapes/qwen3.6-35b-a3b-4bit.config.json --prompts 512 --contexts 0 \
                       --profile-batch 8 --batch-context 1024 ;;
    # The model's whole context on one GPU: peak memory with the weights (issue 11).
    context262k) run_bench context262k-35b-a3b bench/shapes/qwen3.6-35b-a3b-4bit.config.json --prompts 262144 \
                   --contexts 262144 --decode-steps 16 ;;
    attention-bench) run_micro attention-bench engine_cuda_attention_bench 0.5 '^BM_' ;;  # decode attention, 35B-A3B layout, 10 layers
    matvec-bench) run_micro matvec-bench engine_cuda_matvec_bench 0.05 '^(matvec|deltanet_inputs)/' ;;  # CUDA-core vs tensor-core, TB/s
    delta-bench) run_micro delta-bench engine_cuda_delta_bench 0.2 '^BM_' ;;  # chunked vs token-by-token delta rule
    moe-bench) run_micro moe-bench engine_cuda_moe_decode_bench 0.05 '^moe_block' ;;  # fused MoE block vs unfused
    gemm-bench) run_micro gemm-bench engine_cuda_gemm_bench 0.1 '^[A-Za-z_]+/' ;;  # prefill GEMMs fast vs exact
    *) echo "unknown step $step" >> "$SUMMARY" ;;
  esac
done
cat "$SUMMARY"
