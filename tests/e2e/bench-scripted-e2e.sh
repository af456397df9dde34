#!/usr/bin/env bash
# End-to-end test of `hearth bench`: the runner starts `hearth serve --scripted` (a script made by
# bench-scripted-model.mjs), drives the real Claude Code CLI on tasks 01 and 04, evaluates each working
# copy with public and held-out tests, and `hearth bench report` summarises. The scripted model edits
# task 04 correctly and task 01 wrongly, so the report must show one held-out pass (04) and one run that
# passes its public tests but fails the held-out ones (01).
#
#   tests/e2e/bench-scripted-e2e.sh HEARTH_BINARY
set -euo pipefail
hearth=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/hearth-bench-e2e.XXXXXX")
trap 'rm -rf "$work"' EXIT

node "$root/tests/e2e/bench-scripted-model.mjs" "$work/script.json"
# Per-session metrics where this hearth's serve writes a metrics log (its --help says so).
metrics_args=""
serve_help=$("$hearth" serve --help 2>&1 || true)
if [[ "$serve_help" == *--metrics-log* ]]; then metrics_args="--metrics-log {metrics_log}"; fi
"$hearth" bench run \
  --bench-dir "$root/bench" \
  --model "hearth-scripted=$work/script.json" \
  --task 01-invoice-rounding --task 04-rate-limiter \
  --serve-args "serve --port {port} --scripted {model_path} --tokenizer $root/.deps/qwen3-tokenizer --served-model-name {model} $metrics_args" \
  --claude "$root/tests/e2e/node_modules/.bin/claude" \
  --time-limit 240 --startup-timeout 60 \
  --out "$work/out"
"$hearth" bench report "$work/out/results.jsonl" --out "$work/out/report.md" --svg "$work/out/report.svg"

failures=0
check() {  # check DESCRIPTION COMMAND...
  if "${@:2}"; then echo "ok: $1"; else echo "FAILED: $1"; failures=$((failures + 1)); fi
}
field() {  # field TASK KEY: a field of that task's result line
  node -e 'const [file, task, key] = process.argv.slice(1);
    const line = require("fs").readFileSync(file, "utf8").trim().split("\n").map(JSON.parse).find((r) => r.task === task);
    console.log(line ? JSON.stringify(line[key]) : "missing");' "$work/out/results.jsonl" "$1" "$2"
}
check "two result lines" test "$(grep -c . "$work/out/results.jsonl")" -eq 2
check "task 04 passes its public tests" test "$(field 04-rate-limiter public_pass)" = true
check "task 04 passes its held-out tests" test "$(field 04-rate-limiter heldout_pass)" = true
check "task 01 passes its public tests" test "$(field 01-invoice-rounding public_pass)" = true
check "task 01 fails its held-out tests" test "$(field 01-invoice-rounding heldout_pass)" = false
check "task 01's diff touches only src/invoice.ts" test "$(field 01-invoice-rounding changed_files)" = '["src/invoice.ts"]'
check "the agent made one tool call per task" test "$(field 04-rate-limiter tool_calls)" = 1
check "the transcript gave a session id" test "$(field 04-rate-limiter session_id)" != '""'
check "the artifact is the script's hash" grep -q '"artifact":"sha256:' "$work/out/results.jsonl"
check "the report shows 1 of 2 held-out passes" grep -q '| hearth-scripted | 2 | 1/2 | 2/2 |' "$work/out/report.md"
check "the pass matrix shows the held-out failure of 01" grep -q '| 01-invoice-rounding | bug fix | 0/1 (1) |' "$work/out/report.md"
check "the pass matrix shows the pass of 04" grep -q '| 04-rate-limiter | from scratch | 1/1 (1) |' "$work/out/report.md"
check "the chart is an SVG with a bar" grep -q '<rect x=' "$work/out/report.svg"
check "the transcript was saved" test -s "$work/out/runs/hearth-scripted/04-rate-limiter/r1/transcript.jsonl"
heldout_04=$(node -e 'console.log(require(process.argv[1]).heldout.length)' "$root/bench/tasks/04-rate-limiter/tests.json")
check "every held-out test of 04 ran and passed" grep -q "^# pass $heldout_04\$" "$work/out/runs/hearth-scripted/04-rate-limiter/r1/evaluation/heldout.log"
if [ -n "$metrics_args" ]; then
  # Joined through the session id of the transcript, which Claude Code sends as X-Claude-Code-Session-Id.
  check "task 04's metrics cover both of its requests" test "$(field 04-rate-limiter metrics | node -e 'console.log(JSON.parse(require("fs").readFileSync(0, "utf8")).requests)')" = 2
  check "task 04's second request reused the cached prefix" test "$(field 04-rate-limiter metrics | node -e 'console.log(JSON.parse(require("fs").readFileSync(0, "utf8")).cache_hits)')" -ge 1
fi
if [ "$failures" -gt 0 ]; then
  echo "--- report.md"; cat "$work/out/report.md"
  echo "--- server log"; tail -n 30 "$work/out"/server-*.log || true
  exit 1
fi
echo "bench end-to-end: all checks passed"
