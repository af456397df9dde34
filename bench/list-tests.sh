#!/usr/bin/env bash
# Writes TASK_DIR/tests.json: the tests, by file and name, that the reference solution passes in each
# suite. bench/evaluate.sh requires every one of them to pass, so that a test file that exits early or
# skips its tests cannot count as passing. check-task.sh fails when tests.json is out of date.
#
#   bench/list-tests.sh TASK_DIR [OUT]     (OUT defaults to TASK_DIR/tests.json; "-" for stdout)
set -euo pipefail
task_dir=$(cd "$1" && pwd)
out=${2:-$task_dir/tests.json}
bench_dir=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/hearth-list-tests.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r "$task_dir/solution" "$work/solution"
listing=$("$bench_dir/evaluate.sh" --list "$task_dir" "$work/solution" "$work/logs")
json=$(node -e 'process.stdout.write(JSON.stringify(JSON.parse(process.argv[1]), null, 2) + "\n")' "$listing")
if [ "$out" = - ]; then printf '%s' "$json"; else printf '%s' "$json" >"$out"; fi
