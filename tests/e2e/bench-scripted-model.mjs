// Writes the scripted-model script (see src/chat/scripted_responder.h) for the benchmark's end-to-end
// test: a "model" that, driven by the real Claude Code CLI, does a known-good edit for task 04 (writes the
// reference solution of the rate limiter) and a known-wrong edit for task 01 (writes the task's wrong/
// answer for the invoice, which passes the public tests and fails the held-out ones).
//
//   node tests/e2e/bench-scripted-model.mjs OUT.json
//
// Each edit is one Bash tool call (the file's content decoded from base64, then the public tests; Bash
// runs in the working copy, whose path the script cannot know) in Qwen's XML tool-call format; the call's output
// carries a marker to which the model answers with its final text.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const tasks = join(root, "bench", "tasks");
const DONE = "HEARTH_BENCH_STEP_DONE";

const out = process.argv[2];
if (!out) {
  console.error("usage: bench-scripted-model.mjs OUT.json");
  process.exit(2);
}

function firstLine(file) {
  return readFileSync(file, "utf8").split("\n")[0];
}

function writeAndTest(relativePath, content, plan) {
  // base64 keeps the command plain: Claude Code refuses shell text it cannot parse with certainty (a
  // heredoc holding "${...}" is such text).
  const encoded = Buffer.from(content, "utf8").toString("base64");
  const command = `echo ${encoded} | base64 -d > ${relativePath} && npm test 2>&1 | tail -n 12; echo ${DONE}`;
  return `<think>\n${plan}\n</think>\n\n` +
    `<tool_call>\n<function=Bash>\n<parameter=command>\n${command}\n</parameter>\n` +
    `<parameter=description>\nWrite ${relativePath} and run the tests\n</parameter>\n</function>\n</tool_call>`;
}

const good = join(tasks, "04-rate-limiter");
const wrong = join(tasks, "01-invoice-rounding");
const script = {
  rules: [
    // After the edit: the tool result holds the marker.
    { when_last_user_contains: DONE, respond: "<think>\nThe tests ran.\n</think>\n\nDone: the change is in place." },
    {
      when_last_user_contains: firstLine(join(good, "repo", "TASK.md")),
      respond: writeAndTest("src/rateLimiter.ts", readFileSync(join(good, "solution", "src", "rateLimiter.ts"), "utf8"),
        "Implement the limiter with fixed clock buckets."),
    },
    {
      when_last_user_contains: firstLine(join(wrong, "repo", "TASK.md")),
      respond: writeAndTest("src/invoice.ts", readFileSync(join(wrong, "wrong", "src", "invoice.ts"), "utf8"),
        "Round every step to the cent."),
    },
    // Side requests (titles and the like) and anything unexpected.
    { otherwise: true, respond: "<think>\nNothing to do.\n</think>\n\nOK." },
  ],
};
writeFileSync(out, JSON.stringify(script, null, 2) + "\n");
