#!/usr/bin/env bash
# Scores an agent's work on one benchmark task: its public tests and its held-out tests (never seen by
# the agent), each under node's test runner with tsx.
#
#   bench/evaluate.sh [--suites public,heldout] [--list] TASK_DIR SUBMISSION_DIR LOG_DIR
#
# Only SUBMISSION_DIR/src/ is taken from the agent's copy (regular files; links and everything else are
# ignored): it replaces src/ in a fresh copy of the task's repo/, in a new folder of an unpredictable name
# that is removed afterwards, so edited or deleted tests, package.json or tsconfig.json change nothing.
# Each suite runs in a fresh node process tree, under scoring/seal.mjs (the assertion and test modules
# frozen before any code under test loads); its results come from scoring/reporter.mjs, which runs in
# the test runner's process and not in the processes that load the code under test, and are checked by
# scoring/score.mjs against TASK_DIR/tests.json: every expected test, by file and name, must pass.
# As root, a suite runs as user nobody (it cannot write the task, the toolchain, the copy or these
# scripts) in its own PID namespace (nothing it starts outlives it).
#
# Prints one JSON object: {"public":{"passed":true,"pass":3,"fail":0,"expected":3,"exit_code":0},"heldout":{…}}
# (only the suites asked for). Logs: LOG_DIR/<suite>.log (TAP), LOG_DIR/<suite>.events.jsonl.
# --list prints the passing tests of each suite instead (how tests.json is made: bench/list-tests.sh).
# Exit status 0 whenever scoring worked (whatever the scores), 2 on bad arguments or a missing toolchain.
set -uo pipefail
suites="public,heldout"
list=false
while [ $# -gt 0 ]; do
  case "$1" in
    --suites) suites=$2; shift 2 ;;
    --list) list=true; shift ;;
    *) break ;;
  esac
done
if [ $# -ne 3 ]; then
  echo "usage: $0 [--suites public,heldout] [--list] TASK_DIR SUBMISSION_DIR LOG_DIR" >&2
  exit 2
fi
task_dir=$(cd "$1" && pwd) || exit 2
submission=$(cd "$2" && pwd) || exit 2
mkdir -p "$3" && log_dir=$(cd "$3" && pwd) || exit 2
bench_dir=$(cd "$(dirname "$0")" && pwd)
toolchain="$bench_dir/node_modules"
if [ ! -d "$toolchain/tsx" ]; then
  echo "$0: the TypeScript toolchain is missing ($toolchain/tsx): run scripts/install-deps.sh" >&2
  exit 2
fi
if ! $list && [ ! -f "$task_dir/tests.json" ]; then
  echo "$0: $task_dir/tests.json is missing: run bench/list-tests.sh $task_dir" >&2
  exit 2
fi
# Per test file and per suite run: a hung test (an agent's infinite loop) must not hang the benchmark.
test_timeout_ms=${HEARTH_BENCH_TEST_TIMEOUT_MS:-20000}
suite_timeout_s=${HEARTH_BENCH_SUITE_TIMEOUT_S:-120}

root=$(mktemp -d "${TMPDIR:-/tmp}/hearth-eval.XXXXXXXXXX") || exit 2
trap 'rm -rf "$root"' EXIT
eval_dir="$root/copy"
cp -r "$task_dir/repo" "$eval_dir"
rm -rf "$eval_dir/src" "$eval_dir/node_modules"
mkdir -p "$eval_dir/src"
if [ -d "$submission/src" ]; then
  (cd "$submission/src" && find . -type d -print0 | (cd "$eval_dir/src" && xargs -0 mkdir -p))
  (cd "$submission/src" && find . -type f -print0 | xargs -0 -r cp --parents -t "$eval_dir/src")
fi
cp -r "$task_dir/heldout" "$eval_dir/heldout"
cp "$bench_dir/scoring/seal.mjs" "$bench_dir/scoring/reporter.mjs" "$root/"
ln -s "$toolchain" "$eval_dir/node_modules"
chmod -R a+rX,go-w "$root"

# How a suite's processes are confined, where this machine allows it (as root): a PID namespace that
# dies with the runner, and the unprivileged user nobody.
confine=()
if [ "$(id -u)" -eq 0 ]; then
  if unshare --pid --fork --kill-child true 2>/dev/null; then confine+=(unshare --pid --fork --kill-child); fi
  # Only where nobody can read the copy and the toolchain (not so under a private home folder, say).
  nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  if "${nobody[@]}" test -r "$eval_dir/node_modules/tsx/package.json" -a -r "$root/seal.mjs" -a -x "$eval_dir" 2>/dev/null; then
    confine+=("${nobody[@]}")
  else
    echo "$0: user nobody cannot read $eval_dir or the toolchain: the tests run as $(id -un)" >&2
  fi
fi

# run_suite NAME FILES...: runs the files; writes LOG_DIR/NAME.log and NAME.events.jsonl; prints the
# suite's JSON object (or, with --list, its passing tests).
run_suite() {
  local name=$1
  shift
  local events="$log_dir/$name.events.jsonl" scratch="$root/tmp-$name"
  mkdir -m 1777 "$scratch"
  # Reporter lines on stdout (to a file this shell opens), TAP on stderr (the log).
  (cd "$eval_dir" && "${confine[@]}" env TMPDIR="$scratch" HOME="$scratch" \
      timeout -k 5 "$suite_timeout_s" node --import tsx --import "$root/seal.mjs" --test \
      --test-timeout="$test_timeout_ms" \
      --test-reporter="$root/reporter.mjs" --test-reporter-destination=stdout \
      --test-reporter=tap --test-reporter-destination=stderr "$@") >"$events" 2>"$log_dir/$name.log"
  local rc=$?
  if $list; then
    printf '"%s":%s' "$name" "$(node "$bench_dir/scoring/score.mjs" --list "$events")"
  else
    printf '"%s":%s' "$name" "$(node "$bench_dir/scoring/score.mjs" "$events" "$task_dir/tests.json" "$name" "$rc" \
                                   2>>"$log_dir/$name.log")"
  fi
}

cd "$eval_dir"
out=""
for suite in ${suites//,/ }; do
  case "$suite" in
    public) files=(test/*.test.ts) ;;
    heldout) files=(heldout/*.test.ts) ;;
    *) echo "$0: unknown suite '$suite'" >&2; exit 2 ;;
  esac
  out+="${out:+,}$(run_suite "$suite" "${files[@]}")"
done
printf '{%s}\n' "$out"
