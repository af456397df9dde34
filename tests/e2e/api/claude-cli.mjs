// Runs the real Claude Code CLI (@anthropic-ai/claude-code from npm) non-interactively against a hearth
// server: `claude -p PROMPT --output-format stream-json --verbose`, in a private HOME, with only the
// environment a user would set for hearth. Resolves with the exit code, the output, the parsed
// stream-json lines and the wall time; a run past `timeoutMs` is killed (code null).
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { runJsonLinesCli } from "./json-lines-cli.mjs";

export const CLAUDE = join(dirname(fileURLToPath(import.meta.url)), "..", "node_modules", ".bin", "claude");

export function runClaude({ url, prompt, model, cwd, home, apiKey = "test-key", args = [], env = {}, timeoutMs = 180000 }) {
  mkdirSync(cwd, { recursive: true });
  return runJsonLinesCli({
    command: CLAUDE,
    args: ["-p", prompt, "--output-format", "stream-json", "--verbose", "--model", model, ...args],
    cwd,
    env: {
      PATH: process.env.PATH,
      HOME: home,
      ANTHROPIC_BASE_URL: url,
      ANTHROPIC_API_KEY: apiKey,
      ANTHROPIC_DEFAULT_HAIKU_MODEL: model,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      DISABLE_AUTOUPDATER: "1",
      ...env,
    },
    timeoutMs,
  });
}
