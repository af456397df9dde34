// Runs a command-line agent that prints one JSON object per line (Claude Code's stream-json, Codex's
// --json) and resolves with its exit code, output, the parsed lines and the wall time; a run past
// `timeoutMs` is killed (code null).
import { spawn } from "node:child_process";

export function runJsonLinesCli({ command, args, cwd, env, timeoutMs }) {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const proc = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
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
