// End to end with OpenAI's Codex CLI (@openai/codex from npm), non-interactive, through hearth's
// Responses API. The scripted model answers in Qwen3.5's XML tool-call format: first a call of Codex's
// exec_command tool that writes greeting.txt and prints it, then (once the command's output is in the
// prompt) a final answer. Codex runs the command itself and sends its output back as a
// function_call_output item.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { runCodex } from "./codex-cli.mjs";
import { startHearth, tempDir } from "./hearth-server.mjs";

const work = tempDir("hearth-codex-work-");
const home = tempDir("hearth-codex-home-");
const FINAL = "Done: greeting.txt says hello from codex.";
// The printed text ("hello from codex") is not in the command itself, so the final rule only fires once
// the command's output is in the conversation.
const COMMAND = "printf 'hello from %s\\n' codex > greeting.txt && cat greeting.txt";

const SCRIPT = {
  rules: [
    { when_prompt_contains: "hello from codex", respond: `<think>\nThe file is written.\n</think>\n\n${FINAL}` },
    {
      when_last_user_contains: "greeting.txt",
      respond:
        "<think>\nOne shell command does it.\n</think>\n\nI'll write the file.\n\n" +
        `<tool_call>\n<function=exec_command>\n<parameter=cmd>\n${COMMAND}\n</parameter>\n</function>\n</tool_call>`,
    },
    { otherwise: true, respond: "OK" },
  ],
};

let server;
before(async () => {
  server = await startHearth({ script: SCRIPT, args: ["--served-model-name", "hearth-scripted", "--auth-token", "codex-key"] });
});
after(async () => server?.stop());

test("Codex runs a shell command through exec_command and finishes with the scripted answer", async () => {
  const { code, stdout, stderr, events } = await runCodex({
    url: server.url,
    model: "hearth-scripted",
    prompt: "Create greeting.txt containing a greeting, then show it.",
    cwd: work,
    home,
    apiKey: "codex-key",
  });
  assert.equal(code, 0, `codex exited with ${code}\n${stderr.slice(-3000)}\n${stdout.slice(-3000)}`);

  // The tool's effect, on disk.
  const file = join(work, "greeting.txt");
  assert.ok(existsSync(file), `greeting.txt was not written\n${stdout}`);
  assert.equal(readFileSync(file, "utf8"), "hello from codex\n");

  // The command Codex ran (from the model's XML tool call) and its output.
  const done = events.filter((e) => e.type === "item.completed").map((e) => e.item);
  const commands = done.filter((i) => i.type === "command_execution");
  assert.equal(commands.length, 1, stdout);
  // Codex shows the command as it ran it (`/bin/bash -lc "..."`, quoted for the shell).
  assert.match(commands[0].command, /printf 'hello from %s.* codex > greeting\.txt && cat greeting\.txt/);
  assert.equal(commands[0].exit_code, 0);
  assert.match(commands[0].aggregated_output, /hello from codex/);

  // The final answer ends the turn.
  const messages = done.filter((i) => i.type === "agent_message").map((i) => i.text);
  assert.equal(messages.at(-1), FINAL);
  const completed = events.filter((e) => e.type === "turn.completed");
  assert.equal(completed.length, 1, stdout);
  assert.ok(completed[0].usage.input_tokens > 0);
  assert.ok(!events.some((e) => e.type === "turn.failed" || e.type === "error"), stdout);

  // Two streamed generations reached the server (the call, then the answer), none failed; the second
  // reused the first's prompt from the cache.
  const generations = server.stderr().split("\n").filter((l) => /^hearth: resp_\S+ .* stream=1 /.test(l));
  assert.equal(generations.length, 2, server.stderr());
  assert.ok(generations.every((l) => /end=end_turn/.test(l)), server.stderr());
  assert.match(generations[1], / cached=[1-9]/, server.stderr());
});
