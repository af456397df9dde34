// Two SDK streams at once against `hearth serve --scripted ... --parallel 2` (the scheduler's
// continuous batching through the whole server): the second stream starts and finishes while the
// first is still streaming, both texts are complete, and a third request beyond running + waiting gets
// 529. Ordering is read from event order, not from durations: the first reply takes ~3 s by script,
// the second a few steps.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import Anthropic from "@anthropic-ai/sdk";

import { startHearth } from "./hearth-server.mjs";

const MODEL = "hearth-scripted";
const LONG = Array.from({ length: 60 }, (_, i) => `w${i}`).join(" ");
const SCRIPT = {
  rules: [
    { when_last_user_contains: "long", respond: LONG, token_delay_ms: 25 },
    { otherwise: true, respond: "Short and sweet." },
  ],
};
const user = (text) => [{ role: "user", content: text }];

let server;
let client;

before(async () => {
  server = await startHearth({ script: SCRIPT, args: ["--parallel", "2", "--queue-size", "0", "--log-requests=false"] });
  client = new Anthropic({ baseURL: server.url, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await server?.stop();
});

test("health reports two places to run", async () => {
  assert.equal((await server.health()).body.queue.max_running, 2);
});

test("a second stream runs to its end while the first is still streaming; a third gets 529", async () => {
  const order = [];
  const first = client.messages.stream({ model: MODEL, max_tokens: 200, messages: user("a long answer please") });
  first.on("text", () => order.length === 0 || order.at(-1) !== "first:text" ? order.push("first:text") : null);
  await new Promise((resolve) => first.once("text", resolve));

  // Both places are taken once the second starts; with no waiting line the third is refused.
  const second = client.messages.stream({ model: MODEL, max_tokens: 50, messages: user("something short") });
  await new Promise((resolve) => second.once("text", resolve));
  await assert.rejects(client.messages.create({ model: MODEL, max_tokens: 10, messages: user("third") }),
    (err) => err instanceof Anthropic.OverloadedError && err.status === 529);
  const secondMessage = await second.finalMessage();
  order.push("second:done");
  const firstMessage = await first.finalMessage();
  order.push("first:done");

  assert.equal(secondMessage.content.at(-1).text, "Short and sweet.");
  assert.equal(firstMessage.content.at(-1).text, LONG);
  // The first stream was still sending text after the second had finished.
  const secondDone = order.indexOf("second:done");
  assert.ok(order.slice(secondDone).includes("first:text"), `order: ${order.join(", ")}`);
});
