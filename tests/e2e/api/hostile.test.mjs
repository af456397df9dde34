// A corpus of malformed and hostile requests. Each must get the right HTTP status and Anthropic error
// type (or, where HTTP itself is broken beyond answering, a closed connection within the timeouts), and
// afterwards the server must still be alive and serving: /health and a normal request.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { startHearth } from "./hearth-server.mjs";
import { rawPost, rawRequest } from "./raw-http.mjs";

const KEY = "hostile-test-key";
const MODEL = "hearth-scripted";
const READ_TIMEOUT_S = 2;
const BODY_TIMEOUT_S = 4;
let server;

before(async () => {
  server = await startHearth({
    script: { rules: [{ otherwise: true, respond: "fine" }] },
    args: ["--auth-token", KEY, "--max-context", "4096", "--read-timeout", String(READ_TIMEOUT_S),
           "--body-timeout", String(BODY_TIMEOUT_S), "--queue-size", "64", "--log-requests=false"],
  });
});
after(async () => server?.stop());

const AUTH = { "x-api-key": KEY };
const valid = () => ({ model: MODEL, max_tokens: 16, messages: [{ role: "user", content: "hi" }] });
const withField = (key, value) => ({ ...valid(), [key]: value });
const withMessages = (messages) => ({ ...valid(), messages });
const withContent = (content) => withMessages([{ role: "user", content }]);
const nested = (depth, leaf = 1) => {
  let s = JSON.stringify(leaf);
  for (let i = 0; i < depth; i++) s = i % 2 ? `{"k":${s}}` : `[${s}]`;
  return s;
};
// Splices raw JSON text in place of a placeholder string, for bodies JSON.stringify cannot produce.
const spliced = (obj, raw) => JSON.stringify(obj).replace('"@RAW@"', raw);
const bytes = (...parts) => Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p, "latin1"))));
const MB10 = 10 * 1024 * 1024;

// [name, body (object → JSON, string/Buffer → as is), expected status, expected error type, options]
const BODY_CASES = [
  // --- not JSON, or not an object
  ["empty body", "", 400, "invalid_request_error"],
  ["unterminated object", "{", 400, "invalid_request_error"],
  ["null", "null", 400, "invalid_request_error"],
  ["array", "[]", 400, "invalid_request_error"],
  ["number", "42", 400, "invalid_request_error"],
  ["string", '"hello"', 400, "invalid_request_error"],
  ["single quotes", "{'model': 'x'}", 400, "invalid_request_error"],
  ["trailing garbage", JSON.stringify(valid()) + " trailing", 400, "invalid_request_error"],
  ["NaN literal", spliced(withField("temperature", "@RAW@"), "NaN"), 400, "invalid_request_error"],
  ["Infinity literal", spliced(withField("max_tokens", "@RAW@"), "Infinity"), 400, "invalid_request_error"],
  ["trailing comma", '{"model":"m",}', 400, "invalid_request_error"],
  ["comment", "// hi\n" + JSON.stringify(valid()), 400, "invalid_request_error"],
  ["unterminated string", '{"model":"m', 400, "invalid_request_error"],
  ["raw newline inside a string", '{"model":"a\nb","max_tokens":1,"messages":[]}', 400, "invalid_request_error"],
  // --- wrong types and missing fields
  ["model is a number", withField("model", 123), 400, "invalid_request_error"],
  ["model is empty", withField("model", ""), 400, "invalid_request_error"],
  ["model missing", { max_tokens: 5, messages: valid().messages }, 400, "invalid_request_error"],
  ["messages is a string", withMessages("hi"), 400, "invalid_request_error"],
  ["messages is null", withMessages(null), 400, "invalid_request_error"],
  ["messages is empty", withMessages([]), 400, "invalid_request_error"],
  ["message is a string", withMessages(["hi"]), 400, "invalid_request_error"],
  ["role is a number", withMessages([{ role: 7, content: "x" }]), 400, "invalid_request_error"],
  ["role is 'tool'", withMessages([{ role: "tool", content: "x" }]), 400, "invalid_request_error"],
  ["content is a number", withContent(5), 400, "invalid_request_error"],
  ["content block is a string", withContent(["text"]), 400, "invalid_request_error"],
  ["content block without type", withContent([{ text: "x" }]), 400, "invalid_request_error"],
  ["content block type is a number", withContent([{ type: 5 }]), 400, "invalid_request_error"],
  ["text block text is a number", withContent([{ type: "text", text: 5 }]), 400, "invalid_request_error"],
  ["max_tokens is a string", withField("max_tokens", "100"), 400, "invalid_request_error"],
  ["max_tokens is fractional", withField("max_tokens", 1.5), 400, "invalid_request_error"],
  ["max_tokens is negative", withField("max_tokens", -1), 400, "invalid_request_error"],
  ["max_tokens is zero", withField("max_tokens", 0), 400, "invalid_request_error"],
  ["max_tokens is a boolean", withField("max_tokens", true), 400, "invalid_request_error"],
  ["stream is a string", withField("stream", "yes"), 400, "invalid_request_error"],
  ["temperature is a string", withField("temperature", "hot"), 400, "invalid_request_error"],
  ["temperature above 1", withField("temperature", 2), 400, "invalid_request_error"],
  ["top_p negative", withField("top_p", -0.5), 400, "invalid_request_error"],
  ["top_k fractional", withField("top_k", 1.5), 400, "invalid_request_error"],
  ["system is a number", withField("system", 5), 400, "invalid_request_error"],
  ["system holds an image block", withField("system", [{ type: "image", source: { type: "url", url: "x" } }]), 400, "invalid_request_error"],
  ["tools is an object", withField("tools", {}), 400, "invalid_request_error"],
  ["tool without input_schema", withField("tools", [{ name: "t" }]), 400, "invalid_request_error"],
  ["tool name with spaces and markup", withField("tools", [{ name: "bad <name>", input_schema: {} }]), 400, "invalid_request_error"],
  ["tool input_schema is a string", withField("tools", [{ name: "t", input_schema: "schema" }]), 400, "invalid_request_error"],
  ["tool_choice is a string", withField("tool_choice", "auto"), 400, "invalid_request_error"],
  ["tool_choice tool without name", { ...withField("tools", [{ name: "t", input_schema: {} }]), tool_choice: { type: "tool" } }, 400, "invalid_request_error"],
  ["tool_choice names a missing tool", { ...withField("tools", [{ name: "t", input_schema: {} }]), tool_choice: { type: "tool", name: "u" } }, 400, "invalid_request_error"],
  ["stop_sequences is a string", withField("stop_sequences", "END"), 400, "invalid_request_error"],
  ["stop_sequences holds an empty string", withField("stop_sequences", [""]), 400, "invalid_request_error"],
  ["too many stop_sequences", withField("stop_sequences", Array.from({ length: 1000 }, (_, i) => `s${i}`)), 400, "invalid_request_error"],
  ["metadata is a string", withField("metadata", "x"), 400, "invalid_request_error"],
  ["thinking budget below 1024", withField("thinking", { type: "enabled", budget_tokens: 10 }), 400, "invalid_request_error"],
  ["thinking type unknown", withField("thinking", { type: "sometimes" }), 400, "invalid_request_error"],
  ["thinking is a string", withField("thinking", "on"), 400, "invalid_request_error"],
  // --- huge numbers
  ["max_tokens 1e309", spliced(withField("max_tokens", "@RAW@"), "1e309"), 400, "invalid_request_error"],
  ["max_tokens with 30 digits", spliced(withField("max_tokens", "@RAW@"), "123456789012345678901234567890"), 400, "invalid_request_error"],
  ["max_tokens 2^64", spliced(withField("max_tokens", "@RAW@"), "18446744073709551616"), 400, "invalid_request_error"],
  ["top_k below int64", spliced(withField("top_k", "@RAW@"), "-9223372036854775809"), 400, "invalid_request_error"],
  ["temperature 1e308", spliced(withField("temperature", "@RAW@"), "1e308"), 400, "invalid_request_error"],
  ["number with 100000 digits", spliced(withField("max_tokens", "@RAW@"), "9".repeat(100000)), 400, "invalid_request_error"],
  // --- deep nesting
  ["metadata nested 100000 deep", spliced(withField("metadata", "@RAW@"), nested(100000)), 400, "invalid_request_error"],
  ["tool input nested 10000 deep",
    spliced(withMessages([{ role: "user", content: "a" }, { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "t", input: "@RAW@" }] }]),
      `{"x":${nested(10000)}}`), 400, "invalid_request_error"],
  ["text nested 5000 deep", spliced(withContent([{ type: "text", text: "@RAW@" }]), nested(5000)), 400, "invalid_request_error"],
  ["schema nested 100 deep is fine", withField("tools", [{ name: "t", input_schema: JSON.parse(nested(100, {})) }]), 200, null],
  // --- invalid UTF-8 and escapes
  ["0xFF byte in content", bytes('{"model":"hearth-scripted","max_tokens":5,"messages":[{"role":"user","content":"a', Buffer.from([0xff]), '"}]}'), 400, "invalid_request_error"],
  ["overlong NUL encoding", bytes('{"model":"hearth-scripted","max_tokens":5,"messages":[{"role":"user","content":"', Buffer.from([0xc0, 0x80]), '"}]}'), 400, "invalid_request_error"],
  ["truncated multibyte character", bytes('{"model":"hearth-scripted","max_tokens":5,"messages":[{"role":"user","content":"', Buffer.from([0xe2, 0x82]), '"}]}'), 400, "invalid_request_error"],
  ["UTF-8 encoded surrogate", bytes('{"model":"hearth-scripted","max_tokens":5,"messages":[{"role":"user","content":"', Buffer.from([0xed, 0xa0, 0x80]), '"}]}'), 400, "invalid_request_error"],
  ["lone surrogate escape", '{"model":"hearth-scripted","max_tokens":5,"messages":[{"role":"user","content":"\\ud800"}]}', 400, "invalid_request_error"],
  ["invalid bytes in the model name", bytes('{"model":"', Buffer.from([0xfe, 0xfe]), '","max_tokens":5,"messages":[{"role":"user","content":"x"}]}'), 400, "invalid_request_error"],
  ["NUL character escape is just text", withContent("a\u0000b"), 200, null],
  ["emoji, RTL and combining marks are just text", withContent("héllo 👋 שלום e\u0301"), 200, null],
  // --- unknown or incomplete blocks
  ["unknown block type", withContent([{ type: "hologram" }]), 400, "invalid_request_error"],
  ["empty block type", withContent([{ type: "" }]), 400, "invalid_request_error"],
  ["unknown block inside a tool_result",
    withMessages([{ role: "user", content: "a" }, { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "t", input: {} }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "hologram" }] }] }]), 400, "invalid_request_error"],
  ["image without source", withContent([{ type: "image" }]), 400, "invalid_request_error"],
  ["base64 image without media_type", withContent([{ type: "image", source: { type: "base64", data: "AAAA" } }]), 400, "invalid_request_error"],
  // --- tool_use / tool_result pairing
  ["tool_result with no tool_use at all", withContent([{ type: "tool_result", tool_use_id: "toolu_x", content: "r" }]), 400, "invalid_request_error"],
  ["tool_result for another id",
    withMessages([{ role: "user", content: "a" }, { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "t", input: {} }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_2", content: "r" }] }]), 400, "invalid_request_error"],
  ["tool_result in an assistant message", withMessages([{ role: "user", content: "a" }, { role: "assistant", content: [{ type: "tool_result", tool_use_id: "t", content: "r" }] }]), 400, "invalid_request_error"],
  ["tool_use in a user message", withContent([{ type: "tool_use", id: "toolu_1", name: "t", input: {} }]), 400, "invalid_request_error"],
  ["tool_use input is an array", withMessages([{ role: "user", content: "a" }, { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "t", input: [] }] }]), 400, "invalid_request_error"],
  ["tool_use without id", withMessages([{ role: "user", content: "a" }, { role: "assistant", content: [{ type: "tool_use", name: "t", input: {} }] }]), 400, "invalid_request_error"],
  // --- 10 MB strings
  ["10 MB of words is a prompt over the context", withContent("word ".repeat(MB10 / 5)), 400, "invalid_request_error", { message: /^prompt is too long: \d+ tokens > 4095 maximum$/ }],
  ["10 MB model name", withField("model", "m".repeat(MB10)), 404, "not_found_error"],
  ["10 MB tool name", withField("tools", [{ name: "t".repeat(MB10), input_schema: {} }]), 400, "invalid_request_error"],
  ["10 MB stop sequence", withField("stop_sequences", ["s".repeat(MB10)]), 400, "invalid_request_error"],
  ["10 MB forged thinking signature is ignored",
    withMessages([{ role: "user", content: "a" }, { role: "assistant", content: [{ type: "thinking", thinking: "x", signature: "s".repeat(MB10) }, { type: "text", text: "b" }] },
      { role: "user", content: "c" }]), 200, null],
  // --- the rest of the surface
  ["unknown top-level fields are ignored", { ...valid(), container: "x", service_tier: "auto", mcp_servers: [], betas_unknown: { a: 1 } }, 200, null],
  ["in-place system message", withMessages([{ role: "user", content: "a" }, { role: "system", content: "reminder" }, { role: "assistant", content: "b" }, { role: "user", content: "c" }]), 200, null],
];

const post = (body, { path = "/v1/messages", headers = AUTH } = {}) =>
  rawPost(server.port, path, typeof body === "object" && !Buffer.isBuffer(body) ? JSON.stringify(body) : body, headers);

const expectError = (r, status, type, message) => {
  assert.equal(r.status, status, `status ${r.status}: ${r.text?.slice(0, 300)}`);
  if (type === null) return;
  assert.equal(r.json?.type, "error", r.text?.slice(0, 300));
  assert.equal(r.json.error.type, type, r.text?.slice(0, 300));
  assert.equal(typeof r.json.error.message, "string");
  assert.ok(r.json.error.message.length < 4096, "error messages stay short");
  if (message) assert.match(r.json.error.message, message);
};

const header = (lines, body = "") => `${lines.join("\r\n")}\r\n\r\n${body}`;
const MB33 = 33 * 1024 * 1024;

// [name, send(), expected status (0: the server closes the connection), expected error type]
// A 405 names the methods the path has (and never says "retry").
async function allowsOnly(methods, pending) {
  const r = await pending;
  assert.equal(r.headers.allow, methods);
  assert.equal(r.headers["x-should-retry"], "false");
  return r;
}

const HTTP_CASES = [
  // --- authentication
  ["no API key", () => post(valid(), { headers: {} }), 401, "authentication_error"],
  ["wrong API key", () => post(valid(), { headers: { "x-api-key": "nope" } }), 401, "authentication_error"],
  ["key in another case", () => post(valid(), { headers: { "x-api-key": KEY.toUpperCase() } }), 401, "authentication_error"],
  ["empty Bearer", () => post(valid(), { headers: { Authorization: "Bearer " } }), 401, "authentication_error"],
  ["Basic auth", () => post(valid(), { headers: { Authorization: `Basic ${KEY}` } }), 401, "authentication_error"],
  ["count_tokens without key", () => post(valid(), { path: "/v1/messages/count_tokens", headers: {} }), 401, "authentication_error"],
  ["models without key", () => rawRequest(server.port, [header(["GET /v1/models HTTP/1.1", "Host: x", "Connection: close"])]), 401, "authentication_error"],
  ["Bearer key works", () => post(valid(), { headers: { Authorization: `Bearer ${KEY}` } }), 200, null],
  ["HEAD / (Claude Code's start-up probe) needs no key", () => rawRequest(server.port, [header(["HEAD / HTTP/1.1", "Host: x", "Connection: close"])], { head: true }), 200, null],
  ["health needs no key", () => rawRequest(server.port, [header(["GET /health HTTP/1.1", "Host: x", "Connection: close"])]), 200, null],
  // --- routes and methods
  ["GET /v1/messages", () => allowsOnly("POST", rawRequest(server.port, [header(["GET /v1/messages HTTP/1.1", "Host: x", "Connection: close"])])), 405, "invalid_request_error"],
  ["DELETE /v1/messages", () => allowsOnly("POST", rawRequest(server.port, [header(["DELETE /v1/messages HTTP/1.1", "Host: x", "Connection: close"])])), 405, "invalid_request_error"],
  ["OPTIONS preflight without --cors-origin", () => allowsOnly("POST", rawRequest(server.port, [header(["OPTIONS /v1/messages HTTP/1.1", "Host: x", "Origin: https://example.com", "Access-Control-Request-Method: POST", "Connection: close"])])), 405, "invalid_request_error"],
  ["PUT /health", () => allowsOnly("GET, HEAD", rawRequest(server.port, [header(["PUT /health HTTP/1.1", "Host: x", "Connection: close"])])), 405, "invalid_request_error"],
  ["PATCH on an unknown path answers at once", () => rawRequest(server.port, [header(["PATCH /v1/nothing HTTP/1.1", "Host: x", "Connection: close"])], { timeoutMs: 3000 }), 404, "not_found_error"],
  ["unknown path", () => post(valid(), { path: "/v1/nothing" }), 404, "not_found_error"],
  ["path traversal", () => rawRequest(server.port, [header(["GET /../../etc/passwd HTTP/1.1", "Host: x", "Connection: close"])]), 404, "not_found_error"],
  ["count_tokens with bad JSON", () => post("{", { path: "/v1/messages/count_tokens" }), 400, "invalid_request_error"],
  ["count_tokens for an unknown model", () => post(withField("model", "gpt-5"), { path: "/v1/messages/count_tokens" }), 404, "not_found_error"],
  ["streaming request with bad JSON is a plain error", () => post('{"stream":true', {}), 400, "invalid_request_error"],
  // --- broken HTTP
  ["garbage request line", () => rawRequest(server.port, ["HELLO\r\n\r\n"]), 400, "invalid_request_error"],
  ["URI of 20000 characters", () => rawRequest(server.port, [header([`GET /${"a".repeat(20000)} HTTP/1.1`, "Host: x"])]), 414, "invalid_request_error"],
  ["malformed chunk size", () => rawRequest(server.port, [header(["POST /v1/messages HTTP/1.1", "Host: x", "Transfer-Encoding: chunked", `x-api-key: ${KEY}`], "zz\r\nabc\r\n0\r\n\r\n")]), 400, "invalid_request_error"],
  // --- body limits
  ["33 MB body", () => post(withContent("x".repeat(MB33))), 413, "request_too_large"],
  ["33 MB chunked body", () => {
    const chunk = "x".repeat(1024 * 1024);
    const pieces = [header(["POST /v1/messages HTTP/1.1", "Host: x", "Transfer-Encoding: chunked", `x-api-key: ${KEY}`])];
    for (let i = 0; i < 34; i++) pieces.push(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    pieces.push("0\r\n\r\n");
    return rawRequest(server.port, pieces);
  }, 413, "request_too_large"],
  ["declared Content-Length of a petabyte", () => rawRequest(server.port, [header(["POST /v1/messages HTTP/1.1", "Host: x", "Content-Length: 1000000000000000", `x-api-key: ${KEY}`], "{}")]), 413, "request_too_large"],
  // --- slow clients
  ["body stalls after 10 bytes", () => rawRequest(server.port, [header(["POST /v1/messages HTTP/1.1", "Host: x", "Content-Length: 500", `x-api-key: ${KEY}`], '{"model":"')]), 408, "timeout_error"],
  ["body trickled a byte at a time past the body deadline", () => {
    const body = JSON.stringify(valid()).padEnd(200, " ");
    const pieces = [header(["POST /v1/messages HTTP/1.1", "Host: x", `Content-Length: ${body.length}`, `x-api-key: ${KEY}`])];
    for (const ch of body) pieces.push(ch);
    return rawRequest(server.port, pieces, { gapMs: 250 });
  }, 408, "timeout_error"],
  ["headers never finish: refused after the read timeout", async () => {
    const r = await rawRequest(server.port, ["POST /v1/messages HTTP/1.1\r\nHost: x\r\nX-Slow: "]);
    assert.ok(r.elapsedMs < (READ_TIMEOUT_S + 5) * 1000, `answered after ${r.elapsedMs} ms`);
    return r;
  }, 400, "invalid_request_error"],
  // httplib has no deadline for the header section as a whole (only per read): a trickle keeps its
  // connection thread until it pauses longer than the read timeout. The pool is sized above the queue.
  ["headers trickled a byte at a time, then a pause", () => {
    const head = "POST /v1/messages HTTP/1.1\r\nHost: x\r\nX-Slow: " + "a".repeat(20);
    return rawRequest(server.port, [...head], { gapMs: 100, timeoutMs: 30000 });
  }, 400, "invalid_request_error"],
];

describe("hostile requests", { concurrency: 6 }, () => {
  for (const [name, body, status, type, options] of BODY_CASES) {
    test(`${name} → ${status}${type ? " " + type : ""}`, async () => {
      expectError(await post(body), status, type, options?.message);
    });
  }
  for (const [name, send, status, type] of HTTP_CASES) {
    test(`${name} → ${status || "connection closed"}${type ? " " + type : ""}`, async () => {
      expectError(await send(), status, type);
    });
  }
});

describe("afterwards", () => {
  test("the corpus has at least 60 requests", () => {
    assert.ok(BODY_CASES.length + HTTP_CASES.length >= 60, `${BODY_CASES.length + HTTP_CASES.length} cases`);
  });

  test("the server is alive, /health answers and a normal request still works", async () => {
    assert.ok(server.alive(), server.stderr());
    const health = await server.health();
    assert.equal(health.status, 200);
    assert.equal(health.body.model_loaded, true);
    assert.equal(health.body.queue.running, 0);
    assert.equal(health.body.queue.waiting, 0);
    const r = await post(valid());
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.content.at(-1).text, "fine");
  });
});
