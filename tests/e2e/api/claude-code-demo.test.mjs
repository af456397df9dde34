// The README's first run: `hearth serve` with no model (the built-in demo model, random weights on the
// CPU), then Claude Code. Claude Code asks for 32000 output tokens with adaptive thinking; the demo
// must still answer a turn within seconds (thinking off, replies that end after a few dozen tokens).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { runClaude } from "./claude-cli.mjs";
import { startHearth, tempDir } from "./hearth-server.mjs";

let server;
before(async () => {
  server = await startHearth({ args: ["--served-model-name", "hearth-demo,claude-*"] });
});
after(async () => server?.stop());

test("Claude Code -p against the demo model reaches a result line", async () => {
  assert.match(server.stdout(), /demo +thinking off, replies end after \d+ tokens/);
  const run = await runClaude({
    url: server.url, prompt: "Say hello.", model: "hearth-demo", cwd: tempDir("hearth-claude-work-"),
    home: tempDir("hearth-claude-home-"), timeoutMs: 170000,
  });
  assert.equal(run.code, 0, `claude exited with ${run.code}\n${run.stderr}\n${run.stdout.slice(-2000)}`);
  const result = run.lines.at(-1);
  assert.equal(result.type, "result");
  assert.equal(result.subtype, "success");
  assert.equal(result.is_error, false);
  assert.ok(result.result.length > 0, "an empty answer");
  // Each generation ended its turn by itself, well short of the 32000 tokens asked for.
  const generations = server.stderr().split("\n").filter((l) => / stream=\d /.test(l));
  assert.ok(generations.length >= 1, server.stderr());
  for (const line of generations) {
    assert.match(line, /end=end_turn/);
    assert.ok(Number(line.match(/output=(\d+)/)[1]) <= 64, line);
  }
  console.log(`demo turn: ${run.seconds.toFixed(1)} s; ${generations.join("\n")}`);
});
