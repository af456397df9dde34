#!/usr/bin/env bash
# Tests one benchmark task itself (run by ctest, tests/e2e/bench_tasks.cmake):
#   1. the unmodified working copy fails the held-out tests, and its public tests pass or fail as the
#      task's task.json says ("public_before"); files listed in "unmodified_passes" (held-out files that
#      check preserved behaviour) pass on it;
#   2. the reference solution (repo/ + solution/ overlay) passes the public and the held-out tests;
#   3. if the task has a wrong/ overlay (a plausible wrong answer), it passes the public tests and fails
#      the held-out ones: the held-out tests catch what the public ones miss.
# It also checks that no held-out file is inside repo/. Usage: bench/check-task.sh TASK_DIR
set -uo pipefail
task_dir=$(cd "$1" && pwd) || exit 2
bench_dir=$(cd "$(dirname "$0")" && pwd)
name=$(basename "$task_dir")
work=$(mktemp -d "${TMPDIR:-/tmp}/hearth-check-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0

fail() { echo "FAIL [$name] $*"; failures=$((failures + 1)); }
field() {  # field FILE.json KEY: a top-level string/array value of task.json ('' if absent)
  node -e 'const v = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[process.argv[2]];
           if (v !== undefined) console.log(Array.isArray(v) ? v.join("\n") : String(v));' "$1" "$2"
}
# stage NAME OVERLAY...: a fresh copy of repo/ with the overlays laid over it; prints its path.
stage() {
  local dir="$work/$1"
  shift
  cp -r "$task_dir/repo" "$dir"
  for overlay in "$@"; do cp -r "$overlay/." "$dir/"; done
  echo "$dir"
}
# evaluate NAME DIR: prints the evaluation JSON (see evaluate.sh).
evaluate() { "$bench_dir/evaluate.sh" "$task_dir" "$2" "$work/logs-$1"; }
passed() {  # passed JSON SUITE: prints true/false
  node -e 'console.log(JSON.parse(process.argv[1])[process.argv[2]].passed)' "$1" "$2"
}
show_failures() { grep -h '^not ok' "$work/logs-$1/$2.log" | sed "s/^/    [$1 $2] /"; }

[ -f "$task_dir/TASK.md" ] || [ -f "$task_dir/repo/TASK.md" ] || fail "no TASK.md in repo/"
[ -f "$task_dir/task.json" ] || { fail "no task.json"; exit 1; }
ls "$task_dir"/heldout/*.test.ts >/dev/null 2>&1 || fail "no held-out tests in heldout/"
ls "$task_dir"/repo/test/*.test.ts >/dev/null 2>&1 || fail "no public tests in repo/test/"
if [ -d "$task_dir/repo/heldout" ]; then fail "repo/ contains held-out tests"; fi

# 1. unmodified
dir=$(stage original)
result=$(evaluate original "$dir") || { fail "evaluation of the original failed"; exit 1; }
echo "[$name] original: $result"
[ "$(passed "$result" heldout)" = false ] || fail "the unmodified task passes the held-out tests"
expected_public=$(field "$task_dir/task.json" public_before)
case "$expected_public" in
  pass) [ "$(passed "$result" public)" = true ] || { fail "public tests should pass before the change"; show_failures original public; } ;;
  fail) [ "$(passed "$result" public)" = false ] || fail "public tests should fail before the change" ;;
  *) fail "task.json: public_before must be \"pass\" or \"fail\"" ;;
esac
while IFS= read -r keep; do
  [ -n "$keep" ] || continue
  (cd "$dir" && node --import tsx --test --test-reporter=tap "$keep") >"$work/keep.log" 2>&1 ||
    { fail "$keep should pass on the unmodified task"; grep '^not ok' "$work/keep.log"; }
done < <(field "$task_dir/task.json" unmodified_passes)

# 2. reference solution
dir=$(stage solution "$task_dir/solution")
result=$(evaluate solution "$dir") || { fail "evaluation of the solution failed"; exit 1; }
echo "[$name] solution: $result"
[ "$(passed "$result" public)" = true ] || { fail "the solution fails public tests"; show_failures solution public; }
[ "$(passed "$result" heldout)" = true ] || { fail "the solution fails held-out tests"; show_failures solution heldout; }

# 3. a plausible wrong answer, where the task has one
if [ -d "$task_dir/wrong" ]; then
  dir=$(stage wrong "$task_dir/wrong")
  result=$(evaluate wrong "$dir") || { fail "evaluation of wrong/ failed"; exit 1; }
  echo "[$name] wrong: $result"
  [ "$(passed "$result" public)" = true ] || { fail "wrong/ should pass the public tests"; show_failures wrong public; }
  [ "$(passed "$result" heldout)" = false ] || fail "wrong/ passes the held-out tests: they miss its mistake"
fi

if [ "$failures" -gt 0 ]; then
  echo "[$name] $failures check(s) failed"
  exit 1
fi
echo "[$name] all checks passed"
