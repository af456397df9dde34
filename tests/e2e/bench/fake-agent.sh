#!/usr/bin/env bash
# A stand-in for the Claude Code CLI in the runner's unit tests. It finds which task it is in (TASK.md
# against HEARTH_FAKE_AGENT_TASKS/*/repo/TASK.md), then, by the --model it is given:
#   good  - lays the task's solution/ over the working copy;   wrong - lays wrong/ over it;
#   slow  - sleeps past any time limit;                        crash - exits 1 with no transcript;
#   escape - starts a setsid daemon named $HEARTH_FAKE_AGENT_STRAGGLER that would outlive the run, and
#            writes to fake-agent-probe.txt whether it can list $HEARTH_FAKE_AGENT_PROBE (the tasks).
# It writes a stream-json transcript like Claude Code's, whose session id is "fake-MODEL-TASK", and
# records the environment it saw in fake-agent-env.txt in its CLAUDE_CONFIG_DIR.
set -euo pipefail
model=""
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model=$2; shift 2 ;;
    *) shift ;;
  esac
done
task=""
for dir in "$HEARTH_FAKE_AGENT_TASKS"/*/; do
  if cmp -s TASK.md "$dir/repo/TASK.md"; then task=$(basename "$dir"); fi
done
env | grep -E '^(ANTHROPIC_|CLAUDE)' | sort > "$CLAUDE_CONFIG_DIR/fake-agent-env.txt"
session="fake-$model-$task"
echo "{\"type\":\"system\",\"subtype\":\"init\",\"session_id\":\"$session\"}"
case "$model" in
  good) cp -r "$HEARTH_FAKE_AGENT_TASKS/$task/solution/." . ;;
  wrong) cp -r "$HEARTH_FAKE_AGENT_TASKS/$task/wrong/." . ;;
  slow) sleep 60 ;;
  crash) exit 1 ;;
  escape)
    setsid bash -c "exec -a '$HEARTH_FAKE_AGENT_STRAGGLER' sleep 600" </dev/null >/dev/null 2>&1 &
    if ls "$HEARTH_FAKE_AGENT_PROBE"/*/heldout >/dev/null 2>&1; then seen=visible; else seen=hidden; fi
    echo "$seen" > "$CLAUDE_CONFIG_DIR/fake-agent-probe.txt"
    ;;
esac
echo '{"type":"assistant","message":{"id":"msg_1","content":[{"type":"tool_use","id":"toolu_1","name":"Write","input":{}}]}}'
echo '{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"ok"}]}}'
echo '{"type":"assistant","message":{"id":"msg_2","content":[{"type":"text","text":"done"}]}}'
echo "{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,\"num_turns\":2,\"duration_ms\":5,\"session_id\":\"$session\"}"
