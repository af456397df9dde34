// The real Claude Code CLI against hearth's refusals and limits, watched through a recording proxy:
// - a wrong API key ends the run in seconds after one request: hearth says `x-should-retry: false`, so
//   the CLI does not retry the 401 for minutes;
// - a server-side --max-tokens below the 32000 Claude Code asks for is refused in the API's words, the
//   CLI sends the request again with max_tokens at the limit, and the reply cut there comes back with
//   stop_reason max_tokens, which the CLI answers by asking the model to resume.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { runClaude } from "./claude-cli.mjs";
import { startHearth, tempDir } from "./hearth-server.mjs";
import { startRecordingProxy } from "./recording-proxy.mjs";

const LIMIT = 4096;  // Claude Code resends with a server's limit only from 4096 tokens up

let server;
let proxy;
before(async () => {
  server = await startHearth({
    script: {
      rules: [
        { when_last_user_contains: "Output token limit hit", respond: "The end." },
        { when_last_user_contains: "essay", respond: "word ".repeat(LIMIT + 500) },
        { otherwise: true, respond: "OK" },
      ],
    },
    args: ["--auth-token", "right-key", "--max-tokens", String(LIMIT), "--enable-thinking=false"],
  });
  proxy = await startRecordingProxy(server.url);
});
after(async () => {
  await proxy?.close();
  await server?.stop();
});

const claude = (prompt, apiKey) =>
  runClaude({ url: proxy.url, prompt, model: "hearth-scripted", cwd: tempDir("hearth-claude-work-"),
              home: tempDir("hearth-claude-home-"), apiKey, timeoutMs: 120000 });

test("a wrong API key fails within seconds, without retries", async () => {
  proxy.exchanges.length = 0;
  const run = await claude("hello", "wrong-key");
  assert.ok(run.seconds < 30, `took ${run.seconds} s\n${run.stdout.slice(-2000)}\n${run.stderr.slice(-2000)}`);
  const result = run.lines.at(-1);
  assert.equal(result?.type, "result", run.stdout.slice(-2000));
  assert.equal(result.is_error, true);
  assert.match(JSON.stringify(result), /API key|401|authentication/i);
  const sent = proxy.messages();
  assert.equal(sent.length, 1, JSON.stringify(proxy.exchanges));
  assert.equal(sent[0].status, 401);
  assert.equal(sent[0].shouldRetry, "false");
});

test("a reply cut by the server's --max-tokens is resent at and reported against that limit", async () => {
  proxy.exchanges.length = 0;
  const run = await claude("Write an essay.", "right-key");
  assert.equal(run.code, 0, `${run.stderr}\n${run.stdout.slice(-2000)}`);
  const sent = proxy.messages().map((e) => `${e.maxTokens}:${e.status}`);
  // Asked for 32000, told the limit, asked again with it; the cut reply was continued at the limit.
  assert.deepEqual(sent.slice(0, 2), ["32000:400", `${LIMIT}:200`], JSON.stringify(proxy.exchanges));
  assert.ok(sent.slice(1).every((s) => s === `${LIMIT}:200`), JSON.stringify(proxy.exchanges));
  const cut = run.lines.find((l) => l.type === "assistant" && l.message?.content?.some((b) => b.type === "text" && b.text.startsWith("word")));
  assert.ok(cut, run.stdout.slice(-2000));
  assert.ok(server.stderr().includes(`output=${LIMIT} end=max_tokens`), server.stderr());
  const result = run.lines.at(-1);
  assert.equal(result.type, "result");
  assert.equal(result.is_error, false);
  assert.equal(result.result, "The end.");
  assert.equal(result.modelUsage["hearth-scripted"].maxOutputTokens, LIMIT);
});
