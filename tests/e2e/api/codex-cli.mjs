// Runs OpenAI's Codex CLI (@openai/codex from npm, a native binary) non-interactively against a hearth
// server: `codex exec --json PROMPT` with a private CODEX_HOME whose config.toml declares hearth as a
// custom model provider speaking the Responses API. Resolves with the exit code, the output, the parsed
// JSONL events and the wall time; a run past `timeoutMs` is killed (code null).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { runJsonLinesCli } from "./json-lines-cli.mjs";

export const CODEX = join(dirname(fileURLToPath(import.meta.url)), "..", "node_modules", ".bin", "codex");

// What a user writes into ~/.codex/config.toml to use hearth (docs/OPENAI.md shows the same).
export function codexConfig({ url, model }) {
  return [
    `model = "${model}"`,
    `model_provider = "hearth"`,
    ``,
    `[model_providers.hearth]`,
    `name = "hearth"`,
    `base_url = "${url}/v1"`,
    `env_key = "HEARTH_API_KEY"`,
    `wire_api = "responses"`,
    ``,
  ].join("\n");
}

export async function runCodex({ url, prompt, model, cwd, home, apiKey = "test-key", args = [], timeoutMs = 180000 }) {
  mkdirSync(cwd, { recursive: true });
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, "config.toml"), codexConfig({ url, model }));
  // danger-full-access: the test machine's container may not allow Codex's own sandbox (Landlock,
  // bubblewrap); the work directory is a fresh temp dir. exec mode never asks for approval.
  const run = await runJsonLinesCli({
    command: CODEX,
    args: ["exec", "--json", "--skip-git-repo-check", "-s", "danger-full-access", ...args, prompt],
    cwd,
    env: { PATH: process.env.PATH, HOME: home, CODEX_HOME: home, HEARTH_API_KEY: apiKey },
    timeoutMs,
  });
  return { ...run, events: run.lines };
}
