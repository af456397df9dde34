// Runs the real Claude Code CLI (@anthropic-ai/claude-code from npm) non-interactively against a hearth
// server: `claude -p PROMPT --output-format stream-json --verbose`, in a private HOME, with only the
// environment a user would set for hearth. Resolves with the exit code, the output, the parsed
// stream-json lines and the wall time; a run past `timeoutMs` is killed (code null).
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const CLAUDE = join(dirname(fileURLToPath(import.meta.url)), "..", "node_modules", ".bin", "claude");

export function runClaude({ url, prompt, model, cwd, home, apiKey = "test-key", args = [], env = {}, timeoutMs = 180000 }) {
  mkdirSync(cwd, { recursive: true });
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const proc = spawn(CLAUDE, ["-p", prompt, "--output-format", "stream-json", "--verbose", "--model", model, ...args], {
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
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (d) => (stdout += d));
    proc.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
    proc.on("error", reject);
    proc.on("exit", (code) => {
      clearTimeout(timer);
      const lines = stdout
        .split("\n")
        .filter((l) => l.trim().startsWith("{"))
        .map((l) => JSON.parse(l));
      resolve({ code, stdout, stderr, lines, seconds: (Date.now() - started) / 1000 });
    });
  });
}
