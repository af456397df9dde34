// Runs the real Claude Code CLI (@anthropic-ai/claude-code from npm) non-interactively against a hearth
// server: `claude -p PROMPT --output-format stream-json`, in `cwd`, with a private HOME, every model
// name mapped to the scripted model and no traffic besides the API. Resolves with the exit code and
// output; kills the CLI after three minutes.
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const CLAUDE = join(dirname(fileURLToPath(import.meta.url)), "..", "node_modules", ".bin", "claude");

export function runClaude({ url, prompt, cwd, home, allowedTools }) {
  mkdirSync(cwd, { recursive: true });
  return new Promise((resolve, reject) => {
    const proc = spawn(
      CLAUDE,
      ["-p", prompt, "--output-format", "stream-json", "--verbose", "--model", "hearth-scripted",
       "--allowedTools", allowedTools],
      {
        cwd,
        env: {
          PATH: process.env.PATH,
          HOME: home,
          ANTHROPIC_BASE_URL: url,
          ANTHROPIC_API_KEY: "test-key",
          ANTHROPIC_DEFAULT_HAIKU_MODEL: "hearth-scripted",
          CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
          DISABLE_AUTOUPDATER: "1",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (d) => (stdout += d));
    proc.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => proc.kill("SIGKILL"), 180000);
    proc.on("error", reject);
    proc.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
