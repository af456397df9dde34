// Starts `hearth serve --scripted` (or the demo model) for the end-to-end tests: writes the script to a
// temp dir, picks a free loopback port (--port 0, read back from the "listening on" line), waits for
// /health, and stops the process afterwards. HEARTH_BIN and HEARTH_TOKENIZER_DIR come from ctest (tests/e2e/api_e2e.cmake).
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const HEARTH_BIN = process.env.HEARTH_BIN;
export const TOKENIZER_DIR = process.env.HEARTH_TOKENIZER_DIR;
if (!HEARTH_BIN || !TOKENIZER_DIR) {
  throw new Error("set HEARTH_BIN (the hearth binary) and HEARTH_TOKENIZER_DIR (the Qwen3 tokenizer)");
}

export function tempDir(prefix = "hearth-e2e-") {
  return mkdtempSync(join(tmpdir(), prefix));
}

// The environment without any HEARTH_* setting of the caller, so flags alone decide.
function cleanEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("HEARTH_")) env[k] = v;
  return { ...env, ...extra };
}

// Without a script: the built-in demo model (random weights).
export async function startHearth({ script, args = [], env = {}, startTimeoutMs = 60000 } = {}) {
  const dir = tempDir();
  const model = [];
  if (script !== undefined) {
    const scriptPath = join(dir, "script.json");
    writeFileSync(scriptPath, JSON.stringify(script, null, 2));
    model.push("--scripted", scriptPath);
  }
  const proc = spawn(
    HEARTH_BIN,
    ["serve", ...model, "--tokenizer", TOKENIZER_DIR, "--port", "0", ...args],
    { env: cleanEnv(env), stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  proc.stderr.on("data", (d) => (stderr += d));
  const exited = once(proc, "exit");
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hearth did not start in time:\n${stdout}\n${stderr}`)), startTimeoutMs);
    proc.stdout.on("data", (d) => {
      stdout += d;
      const m = stdout.match(/hearth: listening on (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    exited.then(([code]) => {
      clearTimeout(timer);
      reject(new Error(`hearth exited with ${code} before listening:\n${stdout}\n${stderr}`));
    });
  });
  const server = {
    url,
    port: Number(new URL(url).port),
    dir,
    proc,
    stderr: () => stderr,
    stdout: () => stdout,
    alive: () => proc.exitCode === null && proc.signalCode === null,
    async health() {
      const r = await fetch(`${url}/health`);
      return { status: r.status, body: await r.json() };
    },
    async stop() {
      if (!server.alive()) return;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
  for (let i = 0; i < 100; i++) {
    try {
      if ((await server.health()).status === 200) return server;
    } catch {
      // not accepting yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await server.stop();
  throw new Error(`hearth never answered /health:\n${stderr}`);
}
