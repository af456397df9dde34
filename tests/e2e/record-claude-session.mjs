// Records a real multi-turn Claude Code agent session as a sequence of Anthropic request bodies.
//
//   node tests/e2e/record-claude-session.mjs OUT.jsonl [--raw RAW.jsonl] [--keep-text]
//
// A tiny HTTP server logs every POST /v1/messages body and answers with scripted Anthropic SSE; the real
// Claude Code CLI (tests/e2e/node_modules/.bin/claude) runs against it twice in a temporary directory:
//   run 1  prompt ONE: thinking (with signature) + text + Write tool call → thinking + Bash tool call →
//          final text;
//   run 2  (--continue) prompt TWO: thinking + text + two parallel tool calls (Read, Bash) → thinking +
//          final text.
// Both runs share one conversation, so OUT.jsonl holds the main conversation's requests in order, each
// growing the previous one (a new user query in run 2 is where Qwen3.5 drops past reasoning).
// Side requests (title generation, quota probes: no tools or no prompt marker) are answered but not
// saved.
//
// Claude Code's own prose is not kept (the project must not carry it): every system block except the
// billing header, every tool description, every "description" string inside tool input schemas, every
// message text that Claude Code injected (role "system" messages, texts starting "<system-reminder>")
// is replaced by a placeholder naming its length and a hash of the original text. The same text always
// becomes the same placeholder, so equal and unequal texts across requests stay equal and unequal, which
// is all the append-only property test needs. --keep-text keeps everything verbatim (local debugging).
import { createServer } from "node:http";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync, rmSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const CLAUDE = join(HERE, "node_modules", ".bin", "claude");
const PROMPT_ONE = "MARKER_ONE: create hello.txt containing a greeting, then show it with cat.";
const PROMPT_TWO = "MARKER_TWO: read hello.txt again and list the directory.";

const args = process.argv.slice(2);
const outPath = args[0];
if (!outPath) {
  console.error("usage: record-claude-session.mjs OUT.jsonl [--raw RAW.jsonl] [--keep-text]");
  process.exit(2);
}
const rawPath = args.includes("--raw") ? args[args.indexOf("--raw") + 1] : null;
const keepText = args.includes("--keep-text");

const workDir = mkdtempSync(join(tmpdir(), "hearth-cc-session-"));
const homeDir = mkdtempSync(join(tmpdir(), "hearth-cc-home-"));

// ---- scripted answers --------------------------------------------------------------------------------
function sse(res, events) {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  for (const e of events) res.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
  res.end();
}

let messageCounter = 0;
function answerEvents(blocks, stopReason) {
  const events = [{
    type: "message_start",
    message: { id: `msg_rec${++messageCounter}`, type: "message", role: "assistant", model: "x", content: [],
               stop_reason: null, stop_sequence: null,
               usage: { input_tokens: 100, output_tokens: 1, cache_read_input_tokens: 0,
                        cache_creation_input_tokens: 0 } },
  }];
  blocks.forEach((b, index) => {
    if (b.type === "thinking") {
      events.push({ type: "content_block_start", index, content_block: { type: "thinking", thinking: "", signature: "" } });
      events.push({ type: "content_block_delta", index, delta: { type: "thinking_delta", thinking: b.thinking } });
      events.push({ type: "content_block_delta", index, delta: { type: "signature_delta", signature: `sig-${messageCounter}-${index}` } });
    } else if (b.type === "text") {
      events.push({ type: "content_block_start", index, content_block: { type: "text", text: "" } });
      events.push({ type: "content_block_delta", index, delta: { type: "text_delta", text: b.text } });
    } else if (b.type === "tool_use") {
      events.push({ type: "content_block_start", index, content_block: { type: "tool_use", id: b.id, name: b.name, input: {} } });
      events.push({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: JSON.stringify(b.input) } });
    }
    events.push({ type: "content_block_stop", index });
  });
  events.push({ type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: 42 } });
  events.push({ type: "message_stop" });
  return events;
}

function textOf(content) {
  if (typeof content === "string") return content;
  return (content || []).filter((b) => b.type === "text").map((b) => b.text).join("\n");
}

// Chooses the scripted step from the conversation's last user message (role "system" messages may
// follow it).
function scriptedAnswer(body) {
  const last = body.messages.findLast((m) => m.role === "user");
  const results = Array.isArray(last.content) ? last.content.filter((b) => b.type === "tool_result") : [];
  const resultIds = results.map((b) => b.tool_use_id);
  const file = join(workDir, "hello.txt");
  if (resultIds.includes("toolu_rec_write")) {
    return answerEvents([
      { type: "thinking", thinking: "The file is written. Now show it with cat." },
      { type: "tool_use", id: "toolu_rec_bash", name: "Bash",
        input: { command: `cat ${file}`, description: "Show the greeting file", timeout: 30000 } },
    ], "tool_use");
  }
  if (resultIds.includes("toolu_rec_bash")) {
    return answerEvents([{ type: "text", text: "Done: hello.txt contains the greeting." }], "end_turn");
  }
  if (resultIds.includes("toolu_rec_read")) {
    return answerEvents([
      { type: "thinking", thinking: "Both results are in; summarise them." },
      { type: "text", text: "hello.txt still holds the greeting, and it is the only file here." },
    ], "end_turn");
  }
  const text = textOf(last.content);
  if (text.includes("MARKER_TWO")) {
    return answerEvents([
      { type: "thinking", thinking: "Read the file and list the directory in parallel." },
      { type: "text", text: "Reading the file and listing the directory." },
      { type: "tool_use", id: "toolu_rec_read", name: "Read", input: { file_path: file } },
      { type: "tool_use", id: "toolu_rec_ls", name: "Bash",
        input: { command: `ls -la ${workDir}`, description: "List the directory" } },
    ], "tool_use");
  }
  if (text.includes("MARKER_ONE")) {
    return answerEvents([
      { type: "thinking", thinking: "The user wants a file with a greeting.\nI will write it first." },
      { type: "text", text: "I'll create the file." },
      { type: "tool_use", id: "toolu_rec_write", name: "Write",
        input: { file_path: file, content: "Hello, wörld! 👋\n" } },
    ], "tool_use");
  }
  return answerEvents([{ type: "text", text: "ok" }], "end_turn");
}

// ---- the logging server ------------------------------------------------------------------------------
const mainRequests = [];
function isMainConversation(body) {
  return Array.isArray(body.tools) && body.tools.length > 0 && Array.isArray(body.messages) &&
         textOf(body.messages[0]?.content).includes("MARKER_ONE");
}

const server = createServer((req, res) => {
  let data = "";
  req.on("data", (c) => { data += c; });
  req.on("end", () => {
    const path = req.url.split("?")[0];
    let body = null;
    try { body = data ? JSON.parse(data) : null; } catch { body = null; }
    if (rawPath) {
      appendFileSync(rawPath, JSON.stringify({ method: req.method, url: req.url,
        session: req.headers["x-claude-code-session-id"] || null, body }) + "\n");
    }
    if (req.method === "POST" && path === "/v1/messages/count_tokens") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ input_tokens: 1000 }));
      return;
    }
    if (req.method !== "POST" || path !== "/v1/messages" || !body) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
      return;
    }
    if (isMainConversation(body)) mainRequests.push(body);
    const events = scriptedAnswer(body);
    if (body.stream) {
      sse(res, events);
    } else {
      // Non-streaming: assemble the message the events describe.
      const msg = events[0].message;
      msg.content = [{ type: "text", text: "ok" }];
      msg.stop_reason = "end_turn";
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(msg));
    }
  });
});

// ---- stripping Claude Code's prose -------------------------------------------------------------------
const placeholder = (text) =>
  `[Claude Code text removed: ${text.length} chars, sha256 ${createHash("sha256").update(text).digest("hex").slice(0, 12)}]`;

function stripSchemaDescriptions(value) {
  if (Array.isArray(value)) return value.map(stripSchemaDescriptions);
  if (value && typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = k === "description" && typeof v === "string" ? placeholder(v) : stripSchemaDescriptions(v);
    }
    return out;
  }
  return value;
}

const injected = (text) => text.startsWith("<system-reminder>");

function stripMessage(m) {
  const replaceAll = m.role === "system";
  const fix = (text) => (replaceAll || injected(text) ? placeholder(text) : text);
  if (typeof m.content === "string") return { ...m, content: fix(m.content) };
  return { ...m, content: m.content.map((b) => (b.type === "text" ? { ...b, text: fix(b.text) } : b)) };
}

function strip(body) {
  const out = { ...body };
  if (Array.isArray(body.system)) {
    out.system = body.system.map((b) =>
      b.type === "text" && !b.text.startsWith("x-anthropic-billing-header:") ? { ...b, text: placeholder(b.text) } : b);
  } else if (typeof body.system === "string") {
    out.system = placeholder(body.system);
  }
  out.tools = body.tools.map((t) => ({
    ...t,
    ...(typeof t.description === "string" ? { description: placeholder(t.description) } : {}),
    ...(t.input_schema ? { input_schema: stripSchemaDescriptions(t.input_schema) } : {}),
  }));
  out.messages = body.messages.map(stripMessage);
  return out;
}

// ---- run the CLI -------------------------------------------------------------------------------------
// Asynchronous: the server answers from this same event loop while the CLI runs.
function runClaude(port, prompt, extra) {
  return new Promise((resolve, reject) => {
    const child = spawn(CLAUDE, ["-p", prompt, ...extra, "--output-format", "stream-json", "--verbose",
                                 "--model", "x", "--allowedTools", "Bash Read Edit Write"], {
      cwd: workDir,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, HOME: homeDir, ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}`,
             ANTHROPIC_API_KEY: "test", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1", DISABLE_AUTOUPDATER: "1" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => { stdout += c; });
    child.stderr.on("data", (c) => { stderr += c; });
    const timer = setTimeout(() => child.kill("SIGTERM"), 180000);
    child.on("close", (status) => {
      clearTimeout(timer);
      const result = stdout.trim().split("\n").filter(Boolean)
        .map((l) => { try { return JSON.parse(l); } catch { return null; } })
        .find((o) => o && o.type === "result");
      console.error(`claude ${extra.join(" ") || "(new)"}: exit ${status}, turns ${result?.num_turns}, ` +
                    `is_error ${result?.is_error}`);
      if (status !== 0 || !result || result.is_error) {
        console.error(stdout.slice(-3000), stderr.slice(-3000));
        reject(new Error("Claude Code run failed"));
      } else {
        resolve(result);
      }
    });
  });
}

server.listen(0, "127.0.0.1", async () => {
  const port = server.address().port;
  let ok = false;
  try {
    await runClaude(port, PROMPT_ONE, []);
    await runClaude(port, PROMPT_TWO, ["--continue"]);
    ok = true;
  } catch (e) {
    console.error(String(e));
  }
  server.close();
  if (ok) {
    const saved = keepText ? mainRequests : mainRequests.map(strip);
    writeFileSync(outPath, saved.map((b) => JSON.stringify(b)).join("\n") + "\n");
    console.error(`wrote ${saved.length} main-conversation requests to ${outPath}`);
  }
  rmSync(workDir, { recursive: true, force: true });
  rmSync(homeDir, { recursive: true, force: true });
  process.exit(ok ? 0 : 1);
});
