#!/usr/bin/env bash
# Scores one working copy of a benchmark task: runs the task's public tests (the original files, so that an
# agent that edited or deleted them is still measured against them) and its held-out tests (copied in
# from the task, never seen by the agent), each under node's test runner with tsx.
#
#   bench/evaluate.sh TASK_DIR EVAL_DIR LOG_DIR
#
# EVAL_DIR is a disposable copy of the working copy: it is modified in place (node_modules link, restored
# public tests, heldout/). The logs go to LOG_DIR/{public,heldout}.log. Prints one JSON object on stdout:
#   {"public":{"passed":true,"pass":3,"fail":0},"heldout":{"passed":false,"pass":7,"fail":2}}
# Exit status 0 whenever scoring worked (whatever the scores), 2 on bad arguments or a missing toolchain.
set -uo pipefail
if [ $# -ne 3 ]; then
  echo "usage: $0 TASK_DIR EVAL_DIR LOG_DIR" >&2
  exit 2
fi
task_dir=$(cd "$1" && pwd) || exit 2
eval_dir=$(cd "$2" && pwd) || exit 2
mkdir -p "$3" && log_dir=$(cd "$3" && pwd) || exit 2
bench_dir=$(cd "$(dirname "$0")" && pwd)
toolchain="$bench_dir/node_modules"
if [ ! -d "$toolchain/tsx" ]; then
  echo "$0: the TypeScript toolchain is missing ($toolchain/tsx): run scripts/install-deps.sh" >&2
  exit 2
fi
# Per test file and per suite run: a hung test (an agent's infinite loop) must not hang the benchmark.
test_timeout_ms=${HEARTH_BENCH_TEST_TIMEOUT_MS:-20000}
suite_timeout_s=${HEARTH_BENCH_SUITE_TIMEOUT_S:-120}

rm -rf "$eval_dir/node_modules" "$eval_dir/heldout"
ln -s "$toolchain" "$eval_dir/node_modules"
mkdir -p "$eval_dir/test"
cp "$task_dir"/repo/test/*.test.ts "$eval_dir/test/"
cp -r "$task_dir/heldout" "$eval_dir/heldout"

# run_suite NAME FILES...: runs the files, writes LOG_DIR/NAME.log, prints the suite's JSON object.
run_suite() {
  local name=$1
  shift
  local log="$log_dir/$name.log"
  (cd "$eval_dir" && timeout -k 5 "$suite_timeout_s" node --import tsx --test --test-reporter=tap \
      --test-timeout="$test_timeout_ms" "$@") >"$log" 2>&1
  local rc=$?
  # The runner's closing summary; absent when node itself failed to start the suite.
  local pass fail
  pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -1)
  fail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -1)
  local passed=false
  if [ "$rc" -eq 0 ] && [ -n "$pass" ] && [ "$pass" -gt 0 ] && [ "${fail:-0}" -eq 0 ]; then
    passed=true
  fi
  printf '{"passed":%s,"pass":%s,"fail":%s,"exit_code":%s}' "$passed" "${pass:-0}" "${fail:-0}" "$rc"
}

cd "$eval_dir"
public_files=()
for f in "$task_dir"/repo/test/*.test.ts; do public_files+=("test/$(basename "$f")"); done
heldout_files=()
for f in "$task_dir"/heldout/*.test.ts; do heldout_files+=("heldout/$(basename "$f")"); done
public=$(run_suite public "${public_files[@]}")
heldout=$(run_suite heldout "${heldout_files[@]}")
printf '{"public":%s,"heldout":%s}\n' "$public" "$heldout"
