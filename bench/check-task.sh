#!/usr/bin/env bash
# Tests one benchmark task itself (run by ctest, tests/e2e/bench_tasks.cmake):
#   1. the unmodified working copy fails the held-out tests, and its public tests pass or fail as the
#      task's task.json says ("public_before"); files listed in "unmodified_passes" (held-out files that
#      check preserved behaviour) pass on it;
#   2. the reference solution (repo/ + solution/ overlay) passes the public and the held-out tests, and
#      passes exactly the tests listed in tests.json (bench/list-tests.sh writes it);
#   3. wrong/ (or wrong.patch) and every variants/wrong-* (plausible wrong answers: a folder laid over
#      repo/, or a .patch applied to the solution) fail the held-out tests; wrong/ also passes the
#      public ones (the held-out tests catch what the public ones miss);
#   4. every variants/correct-*/ (correct answers written independently of solution/) passes both;
#   5. every cheat in bench/cheats/ (exit early, disarm node:assert, mark tests todo), imported by the
#      code of wrong/, and a wrong/ that rewrites the test files, still fail the held-out tests.
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
# stage_answer NAME ANSWER: like stage, for an answer that is a folder laid over repo/ or a patch
# applied to the solution (wrong.patch, variants/wrong-*.patch); sets dir to the copy's path.
stage_answer() {
  if [[ "$2" == *.patch ]]; then
    dir=$(stage "$1" "$task_dir/solution")
    patch -s -p1 -d "$dir" <"$2" || fail "$(basename "$2") does not apply to the solution"
  else
    dir=$(stage "$1" "$2")
  fi
}
# start NAME DIR [SUITES]: evaluates in the background (see evaluate.sh); `finish NAME` waits for it and
# sets r to its JSON.
# At most HEARTH_BENCH_CHECK_JOBS (default 2) at a time: more would only make slow tests time out.
declare -A jobs
max_jobs=${HEARTH_BENCH_CHECK_JOBS:-2}
start() {
  while [ "$(jobs -rp | wc -l)" -ge "$max_jobs" ]; do wait -n; done
  "$bench_dir/evaluate.sh" --suites "${3:-public,heldout}" "$task_dir" "$2" "$work/logs-$1" >"$work/result-$1" &
  jobs[$1]=$!
}
finish() {
  wait "${jobs[$1]}"
  [ -s "$work/result-$1" ] || { fail "evaluation of $1 failed"; tail -n 5 "$work/logs-$1"/*.log 2>/dev/null; }
  r=$(cat "$work/result-$1")
}
passed() {  # passed JSON SUITE: prints true/false
  node -e 'const s = JSON.parse(process.argv[1] || "{}")[process.argv[2]]; console.log(s ? s.passed : "missing")' "$1" "$2"
}
show_failures() { grep -h '^not ok' "$work/logs-$1/$2.log" | sed "s/^/    [$1 $2] /"; }

[ -f "$task_dir/TASK.md" ] || [ -f "$task_dir/repo/TASK.md" ] || fail "no TASK.md in repo/"
[ -f "$task_dir/task.json" ] || { fail "no task.json"; exit 1; }
[ -f "$task_dir/tests.json" ] || { fail "no tests.json (bench/list-tests.sh $task_dir)"; exit 1; }
ls "$task_dir"/heldout/*.test.ts >/dev/null 2>&1 || fail "no held-out tests in heldout/"
ls "$task_dir"/repo/test/*.test.ts >/dev/null 2>&1 || fail "no public tests in repo/test/"
if [ -d "$task_dir/repo/heldout" ]; then fail "repo/ contains held-out tests"; fi

# Every evaluation starts here and runs in the background; the checks below wait for each in turn.
start original "$(stage original)"
start solution "$(stage solution "$task_dir/solution")"
wrong_answer=""
[ -d "$task_dir/wrong" ] && wrong_answer="$task_dir/wrong"
[ -f "$task_dir/wrong.patch" ] && wrong_answer="$task_dir/wrong.patch"
if [ -n "$wrong_answer" ]; then
  stage_answer wrong "$wrong_answer"
  start wrong "$dir"
fi
wrong_variants=() correct_variants=()
for v in "$task_dir"/variants/wrong-*/ "$task_dir"/variants/wrong-*.patch; do
  [ -e "$v" ] && wrong_variants+=("$(basename "$v")")
done
for v in "$task_dir"/variants/correct-*/; do [ -d "$v" ] && correct_variants+=("$(basename "$v")"); done
for v in "${wrong_variants[@]}"; do
  stage_answer "$v" "$task_dir/variants/$v"
  start "$v" "$dir" heldout
done
for v in "${correct_variants[@]}"; do start "$v" "$(stage "$v" "$task_dir/variants/$v")"; done
# The cheats ride on the wrong answer (or the unmodified code): each top-level module imports the cheat first.
stage_base() { if [ -n "$wrong_answer" ]; then stage_answer "$1" "$wrong_answer"; else dir=$(stage "$1"); fi; }
cheats=()
for cheat in "$bench_dir"/cheats/*.ts; do
  c="cheat-$(basename "$cheat" .ts)"
  cheats+=("$c")
  stage_base "$c"
  cp "$cheat" "$dir/src/zz-cheat.ts"
  for module in "$dir"/src/*.ts; do
    [ "$module" = "$dir/src/zz-cheat.ts" ] || sed -i '1i import "./zz-cheat";' "$module"
  done
  start "$c" "$dir" heldout
done
stage_base cheat-edit-tests
for t in "$dir"/test/*.test.ts; do printf 'import { test } from "node:test";\ntest("ok", () => {});\n' >"$t"; done
mkdir -p "$dir/heldout" && cp "$dir"/test/*.test.ts "$dir/heldout/"
sed -i 's/"test": *"[^"]*"/"test": "true"/' "$dir/package.json"
cheats+=(cheat-edit-tests)
start cheat-edit-tests "$dir" heldout

# 1. unmodified
finish original
echo "[$name] original: $r"
[ "$(passed "$r" heldout)" = false ] || fail "the unmodified task passes the held-out tests"
case "$(field "$task_dir/task.json" public_before)" in
  pass) [ "$(passed "$r" public)" = true ] || { fail "public tests should pass before the change"; show_failures original public; } ;;
  fail) [ "$(passed "$r" public)" = false ] || fail "public tests should fail before the change" ;;
  *) fail "task.json: public_before must be \"pass\" or \"fail\"" ;;
esac
while IFS= read -r keep; do
  [ -n "$keep" ] || continue
  dir=$(stage keep)
  cp -r "$task_dir/heldout" "$dir/heldout"
  ln -s "$bench_dir/node_modules" "$dir/node_modules"
  (cd "$dir" && node --import tsx --test --test-reporter=tap "$keep") >"$work/keep.log" 2>&1 ||
    { fail "$keep should pass on the unmodified task"; grep '^not ok' "$work/keep.log"; }
  rm -rf "$dir"
done < <(field "$task_dir/task.json" unmodified_passes)

# 2. reference solution
finish solution
echo "[$name] solution: $r"
[ "$(passed "$r" public)" = true ] || { fail "the solution fails public tests"; show_failures solution public; }
[ "$(passed "$r" heldout)" = true ] || { fail "the solution fails held-out tests"; show_failures solution heldout; }
for suite in public heldout; do
  listed=$(node -e 'console.log(JSON.stringify(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[process.argv[2]]))' \
             "$task_dir/tests.json" "$suite")
  seen=$(node "$bench_dir/scoring/score.mjs" --list "$work/logs-solution/$suite.events.jsonl" |
           node -e 'console.log(JSON.stringify(JSON.parse(require("fs").readFileSync(0, "utf8"))))')
  [ "$listed" = "$seen" ] || fail "tests.json ($suite) is not what the solution passes: run bench/list-tests.sh $task_dir"
done

# 3. plausible wrong answers
if [ -n "$wrong_answer" ]; then
  finish wrong
  echo "[$name] wrong: $r"
  [ "$(passed "$r" public)" = true ] || { fail "wrong/ should pass the public tests"; show_failures wrong public; }
  [ "$(passed "$r" heldout)" = false ] || fail "wrong/ passes the held-out tests: they miss its mistake"
fi
for v in "${wrong_variants[@]}"; do
  finish "$v"
  echo "[$name] $v: $r"
  [ "$(passed "$r" heldout)" = false ] || fail "$v passes the held-out tests: they miss its mistake"
done

# 4. independently written correct answers
for v in "${correct_variants[@]}"; do
  finish "$v"
  echo "[$name] $v: $r"
  [ "$(passed "$r" public)" = true ] || { fail "$v fails public tests"; show_failures "$v" public; }
  [ "$(passed "$r" heldout)" = true ] || { fail "$v fails held-out tests"; show_failures "$v" heldout; }
done

# 5. cheats
for c in "${cheats[@]}"; do
  finish "$c"
  echo "[$name] $c: $r"
  [ "$(passed "$r" heldout)" = false ] || fail "$c passes the held-out tests"
done

if [ "$failures" -gt 0 ]; then
  echo "[$name] $failures check(s) failed"
  exit 1
fi
echo "[$name] all checks passed (${#wrong_variants[@]} wrong variants, ${#correct_variants[@]} correct variants, ${#cheats[@]} cheats)"
