// The real Claude Code CLI running two subagents in parallel against `hearth serve --scripted ...
// --parallel 2`: the scripted main agent calls the Agent tool twice in one turn, Claude Code runs both
// subagents at once, and each subagent's request streams a slow scripted reply. Both generations must
// run at the same time on the server (their generation intervals, from the metrics log, overlap),
// and the main agent must finish with both reports in its prompt.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { runClaude } from "./claude-cli.mjs";
import { startHearth, tempDir } from "./hearth-server.mjs";

const work = tempDir("hearth-claude-subagents-work-");
const home = tempDir("hearth-claude-subagents-home-");
const metricsLog = join(tempDir("hearth-claude-subagents-metrics-"), "requests.jsonl");
const FINAL = "Both subagents reported.";

const toolCall = (name, params) =>
  `<tool_call>\n<function=${name}>\n` +
  Object.entries(params).map(([k, v]) => `<parameter=${k}>\n${v}\n</parameter>\n`).join("") +
  `</function>\n</tool_call>`;
const agentCall = (prompt) =>
  toolCall("Agent", { description: "Look something up", prompt, subagent_type: "general-purpose", run_in_background: "false" });
// ~60 tokens at 30 ms per step: each subagent's reply streams for about two seconds.
const slowReport = (name) => `${Array.from({ length: 30 }, (_, i) => `${name}${i}`).join(" ")} ${name} report ready.`;

const SCRIPT = {
  rules: [
    { when_prompt_contains: "beta report ready", respond: `<think>\nBoth are back.\n</think>\n\n${FINAL}` },
    { when_last_user_contains: "ALPHA-TASK", respond: slowReport("alpha"), token_delay_ms: 30 },
    { when_last_user_contains: "BETA-TASK", respond: slowReport("beta"), token_delay_ms: 30 },
    {
      when_last_user_contains: "two subagents",
      respond: "<think>\nDelegate both.\n</think>\n\n" + agentCall("ALPHA-TASK: report on alpha.") + "\n" +
        agentCall("BETA-TASK: report on beta."),
    },
    { otherwise: true, respond: "OK" },
  ],
};

let server;
before(async () => {
  server = await startHearth({
    script: SCRIPT,
    args: ["--served-model-name", "hearth-scripted,claude-*", "--parallel", "2", "--metrics-log", metricsLog],
  });
});
after(async () => server?.stop());

test("two parallel subagents of Claude Code stream at the same time", async () => {
  const { code, stdout, stderr } = await runClaude({
    url: server.url,
    prompt: "Use two subagents to report on alpha and beta.",
    cwd: work,
    home,
    model: "hearth-scripted",
    args: ["--allowedTools", "Agent Task"],
  });
  assert.equal(code, 0, `claude exited with ${code}\n${stderr}\n${stdout.slice(-2000)}`);
  const lines = stdout.trim().split("\n").map((l) => JSON.parse(l));
  const result = lines.at(-1);
  assert.equal(result.type, "result");
  assert.equal(result.result, FINAL, stdout.slice(-3000));

  // The subagents' generations: the two slow ones. [start, end] of each from the metrics log.
  const records = readFileSync(metricsLog, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const slow = records.filter((r) => r.decode_ms > 1000);
  assert.equal(slow.length, 2, JSON.stringify(records, null, 1));
  const interval = (r) => {
    const arrival = Date.parse(r.time);
    return [arrival + r.queue_ms, arrival + r.total_ms];
  };
  const [a, b] = slow.map(interval);
  assert.ok(a[0] < b[1] && b[0] < a[1], `generations did not overlap: ${JSON.stringify([a, b])}`);
});
