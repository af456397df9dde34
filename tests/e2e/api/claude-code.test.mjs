// End to end with the real Claude Code CLI (@anthropic-ai/claude-code from npm), non-interactive. The
// scripted model answers in Qwen3.5's own XML tool-call format: first a Write of hello.py, then (once
// the Write result is in the prompt) a Bash call running it, then (once the program's output is in
// the prompt) a final answer. Claude Code executes the tools itself and sends the results back.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { runClaude } from "./claude-cli.mjs";
import { startHearth, tempDir } from "./hearth-server.mjs";

const work = tempDir("hearth-claude-work-");
const home = tempDir("hearth-claude-home-");
const file = join(work, "hello.py");
const FINAL = 'Done: hello.py printed "Hello from hearth!".';

const toolCall = (name, params) =>
  `<tool_call>\n<function=${name}>\n` +
  Object.entries(params).map(([k, v]) => `<parameter=${k}>\n${v}\n</parameter>\n`).join("") +
  `</function>\n</tool_call>`;

// The program prints a string that does not appear in its source, so the last rule only fires once the
// Bash result is in the conversation.
const SCRIPT = {
  rules: [
    { when_prompt_contains: "Hello from hearth!", respond: `<think>\nThe script ran.\n</think>\n\n${FINAL}` },
    {
      when_prompt_contains: "File created successfully",
      respond: "<think>\nNow run it.\n</think>\n\n" + toolCall("Bash", { command: `python3 ${file}`, description: "Run hello.py" }),
    },
    {
      when_last_user_contains: "hello.py",
      respond: "<think>\nWrite the file first.\n</think>\n\nI'll create the script.\n\n" +
        toolCall("Write", { file_path: file, content: 'print("Hello from " + "hearth" + "!")' }),
    },
    { otherwise: true, respond: "OK" },
  ],
};

let server;
before(async () => {
  server = await startHearth({ script: SCRIPT, args: ["--served-model-name", "hearth-scripted,claude-*"] });
});
after(async () => server?.stop());

test("Claude Code writes a file, runs it with Bash and finishes with the scripted answer", async () => {
  const { code, stdout, stderr } = await runClaude({
    url: server.url,
    prompt: "Create hello.py that prints a greeting, then run it.",
    cwd: work,
    home,
    allowedTools: "Bash Read Edit Write",
  });
  assert.equal(code, 0, `claude exited with ${code}\n${stderr}\n${stdout.slice(-2000)}`);
  const lines = stdout.trim().split("\n").map((l) => JSON.parse(l));

  // The file on disk, written by Claude Code's Write tool from the model's XML tool call.
  assert.ok(existsSync(file), "hello.py was not written");
  assert.equal(readFileSync(file, "utf8").trim(), 'print("Hello from " + "hearth" + "!")');

  // The tool calls Claude Code saw, in order, and the Bash output it sent back.
  const toolUses = lines
    .filter((l) => l.type === "assistant")
    .flatMap((l) => l.message.content.filter((b) => b.type === "tool_use"));
  assert.deepEqual(toolUses.map((t) => t.name), ["Write", "Bash"]);
  assert.equal(toolUses[1].input.command, `python3 ${file}`);
  const toolResults = lines
    .filter((l) => l.type === "user")
    .flatMap((l) => (Array.isArray(l.message.content) ? l.message.content : []))
    .filter((b) => b.type === "tool_result");
  assert.equal(toolResults.length, 2);
  assert.ok(toolResults.every((r) => !r.is_error), JSON.stringify(toolResults));
  assert.match(JSON.stringify(toolResults[1].content), /Hello from hearth!/);

  // The final result line.
  const result = lines.at(-1);
  assert.equal(result.type, "result");
  assert.equal(result.subtype, "success");
  assert.equal(result.is_error, false);
  assert.equal(result.num_turns, 3);
  assert.equal(result.result, FINAL);
  assert.ok(result.usage.output_tokens > 0);

  // Three streamed generations reached the server, none failed.
  const generations = server.stderr().split("\n").filter((l) => / stream=1 /.test(l));
  assert.equal(generations.length, 3, server.stderr());
  assert.ok(generations.every((l) => /end=end_turn/.test(l)), server.stderr());
});
