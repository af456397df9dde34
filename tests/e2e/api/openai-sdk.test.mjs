// The official OpenAI TypeScript SDK (openai from npm) against `hearth serve` on the scripted model:
// Chat Completions and Responses, plain and streamed, tool loops with parallel calls, reasoning,
// usage with cached tokens, and each refusal surfacing as the SDK's matching error class. Everything
// above the model (HTTP, parsing, rendering, tokenizing, output parsing, SSE) is the real code.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import OpenAI from "openai";

import { startHearth } from "./hearth-server.mjs";

const MODEL = "hearth-scripted";

const call = (city, days) =>
  `<tool_call>\n<function=get_weather>\n<parameter=city>\n${city}\n</parameter>\n<parameter=days>\n${days}\n</parameter>\n</function>\n</tool_call>`;

const SCRIPT = {
  rules: [
    { when_last_user_contains: "explode", fail: "simulated engine failure" },
    { when_prompt_contains: "Sunny, 21", respond: "<think>\nThe tool answered.\n</think>\n\nIt is sunny in Paris." },
    {
      when_last_user_contains: "weather",
      respond: "<think>\nI need the weather for both cities.\n</think>\n\n" + call("Paris", 3) + "\n" + call("London", 1),
    },
    { when_last_user_contains: "the answer", respond: "The answer is 42. END This part must never be sent." },
    { when_last_user_contains: "story", respond: "Once upon a time a small server answered every request with care." },
    { otherwise: true, respond: "<think>\nA greeting.\n</think>\n\nHello! I am hearth." },
  ],
};

const CHAT_TOOLS = [
  {
    type: "function",
    function: {
      name: "get_weather",
      description: "Weather forecast for a city",
      parameters: { type: "object", properties: { city: { type: "string" }, days: { type: "integer" } }, required: ["city"] },
    },
  },
];
const RESPONSES_TOOLS = CHAT_TOOLS.map((t) => ({ type: "function", ...t.function }));

let main;
let guarded;
let client;

before(async () => {
  [main, guarded] = await Promise.all([
    startHearth({ script: SCRIPT, args: ["--max-context", "2048"] }),
    startHearth({ script: SCRIPT, args: ["--auth-token", "s3cret"] }),
  ]);
  client = new OpenAI({ baseURL: `${main.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await Promise.all([main?.stop(), guarded?.stop()]);
});

describe("chat completions", () => {
  test("plain reply: content, reasoning_content, stop and usage", async () => {
    const c = await client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "hello" }] });
    assert.match(c.id, /^chatcmpl-/);
    assert.equal(c.object, "chat.completion");
    assert.equal(c.model, MODEL);
    assert.equal(c.choices.length, 1);
    assert.equal(c.choices[0].message.role, "assistant");
    assert.equal(c.choices[0].message.content, "Hello! I am hearth.");
    assert.equal(c.choices[0].message.reasoning_content, "A greeting.");
    assert.equal(c.choices[0].finish_reason, "stop");
    assert.ok(c.usage.prompt_tokens > 0);
    assert.ok(c.usage.completion_tokens > 0);
    assert.equal(c.usage.total_tokens, c.usage.prompt_tokens + c.usage.completion_tokens);
    assert.equal(typeof c.usage.prompt_tokens_details.cached_tokens, "number");
  });

  test("the same prefix again is read from the prompt cache (cached_tokens)", async () => {
    const messages = [
      { role: "system", content: "You are a weather bot. ".repeat(20) },
      { role: "user", content: "tell me a story" },
    ];
    await client.chat.completions.create({ model: MODEL, messages });
    const again = await client.chat.completions.create({ model: MODEL, messages });
    assert.ok(again.usage.prompt_tokens_details.cached_tokens > 0, JSON.stringify(again.usage));
    assert.ok(again.usage.prompt_tokens_details.cached_tokens <= again.usage.prompt_tokens);
  });

  test("streamed tool loop: parallel calls assembled from chunks, then the answer to the tool results", async () => {
    const messages = [{ role: "user", content: "what is the weather in Paris and London?" }];
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages,
      tools: CHAT_TOOLS,
      stream: true,
      stream_options: { include_usage: true },
    });
    const calls = [];
    let reasoning = "";
    let finish = null;
    let usage = null;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices[0];
      if (!choice) continue;
      reasoning += choice.delta.reasoning_content ?? "";
      for (const tc of choice.delta.tool_calls ?? []) {
        calls[tc.index] ??= { id: "", name: "", arguments: "" };
        if (tc.id) calls[tc.index].id = tc.id;
        if (tc.function?.name) calls[tc.index].name = tc.function.name;
        calls[tc.index].arguments += tc.function?.arguments ?? "";
      }
      finish = choice.finish_reason ?? finish;
    }
    assert.equal(reasoning, "I need the weather for both cities.");
    assert.equal(finish, "tool_calls");
    assert.equal(calls.length, 2);
    assert.deepEqual(JSON.parse(calls[0].arguments), { city: "Paris", days: 3 });
    assert.deepEqual(JSON.parse(calls[1].arguments), { city: "London", days: 1 });
    assert.ok(calls.every((c) => c.name === "get_weather" && /^call_/.test(c.id)));
    assert.notEqual(calls[0].id, calls[1].id);
    assert.ok(usage && usage.completion_tokens > 0);

    messages.push({
      role: "assistant",
      content: null,
      reasoning_content: reasoning,
      tool_calls: calls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } })),
    });
    for (const c of calls) messages.push({ role: "tool", tool_call_id: c.id, content: "Sunny, 21 C" });
    const answer = await client.chat.completions.create({ model: MODEL, messages, tools: CHAT_TOOLS });
    assert.equal(answer.choices[0].message.content, "It is sunny in Paris.");
    assert.equal(answer.choices[0].finish_reason, "stop");
  });

  test("the SDK's stream helper gives the final content", async () => {
    const runner = client.chat.completions.stream({ model: MODEL, messages: [{ role: "user", content: "hello" }] });
    let text = "";
    runner.on("content", (delta) => (text += delta));
    const final = await runner.finalChatCompletion();
    assert.equal(text, "Hello! I am hearth.");
    assert.equal(final.choices[0].message.content, "Hello! I am hearth.");
  });

  test("parallel_tool_calls: false stops after the first call; tool_choice names a function", async () => {
    const c = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: "what is the weather in Paris and London?" }],
      tools: CHAT_TOOLS,
      parallel_tool_calls: false,
    });
    assert.equal(c.choices[0].message.tool_calls.length, 1);
    assert.equal(c.choices[0].finish_reason, "tool_calls");
  });

  test("stop, max_completion_tokens, seed", async () => {
    const stopped = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: "what is the answer?" }],
      stop: ["END"],
    });
    assert.equal(stopped.choices[0].message.content, "The answer is 42. ");
    assert.equal(stopped.choices[0].finish_reason, "stop");
    const cut = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: "tell me a story" }],
      max_completion_tokens: 3,
      seed: 7,
      temperature: 1.2,
    });
    assert.equal(cut.choices[0].finish_reason, "length");
    assert.equal(cut.usage.completion_tokens, 3);
  });

  test("errors: bad field, unknown model, unsupported feature, context overflow, engine failure", async () => {
    await assert.rejects(
      client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "hi" }], temperature: 3 }),
      (e) => e instanceof OpenAI.BadRequestError && e.param === "temperature" && e.type === "invalid_request_error",
    );
    await assert.rejects(
      client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] }),
      (e) => e instanceof OpenAI.NotFoundError && e.code === "model_not_found",
    );
    await assert.rejects(
      client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "hi" }], n: 2 }),
      (e) => e instanceof OpenAI.BadRequestError && e.param === "n",
    );
    await assert.rejects(
      client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "x ".repeat(3000) }] }),
      (e) => e instanceof OpenAI.BadRequestError && e.code === "context_length_exceeded",
    );
    await assert.rejects(
      client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "explode" }] }),
      (e) => e instanceof OpenAI.InternalServerError,
    );
    const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "explode" }], stream: true });
    await assert.rejects(async () => {
      for await (const _ of stream);
    }, (e) => e instanceof OpenAI.APIError && /simulated engine failure/.test(e.message));
    assert.ok(main.alive());
  });

  test("auth: a wrong key is AuthenticationError, the right one works", async () => {
    const wrong = new OpenAI({ baseURL: `${guarded.url}/v1`, apiKey: "wrong", maxRetries: 0 });
    await assert.rejects(
      wrong.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "hi" }] }),
      (e) => e instanceof OpenAI.AuthenticationError && e.code === "invalid_api_key",
    );
    const right = new OpenAI({ baseURL: `${guarded.url}/v1`, apiKey: "s3cret", maxRetries: 0 });
    const c = await right.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "hi" }] });
    assert.equal(c.choices[0].message.content, "Hello! I am hearth.");
  });

  test("models list", async () => {
    const page = await client.models.list();
    assert.deepEqual(page.data.map((m) => m.id), [MODEL]);
    assert.equal(page.data[0].object, "model");
    assert.equal(page.data[0].owned_by, "hearth");
  });
});

describe("responses", () => {
  test("plain reply: reasoning and message items, output_text, usage", async () => {
    const r = await client.responses.create({ model: MODEL, input: "hello", instructions: "Be friendly." });
    assert.match(r.id, /^resp_/);
    assert.equal(r.status, "completed");
    assert.deepEqual(r.output.map((i) => i.type), ["reasoning", "message"]);
    assert.equal(r.output[0].content[0].text, "A greeting.");
    assert.equal(r.output_text, "Hello! I am hearth.");
    assert.ok(r.usage.input_tokens > 0 && r.usage.output_tokens > 0);
    assert.equal(typeof r.usage.input_tokens_details.cached_tokens, "number");
  });

  test("streamed function-call loop with the SDK's stream helper", async () => {
    const input = [{ role: "user", content: "what is the weather in Paris and London?" }];
    const stream = client.responses.stream({ model: MODEL, input, tools: RESPONSES_TOOLS });
    const types = new Set();
    let argumentDeltas = "";
    for await (const event of stream) {
      types.add(event.type);
      if (event.type === "response.function_call_arguments.delta") argumentDeltas += event.delta;
    }
    const final = await stream.finalResponse();
    for (const t of ["response.created", "response.output_item.added", "response.reasoning_text.delta",
                     "response.function_call_arguments.done", "response.output_item.done", "response.completed"]) {
      assert.ok(types.has(t), `missing ${t}: ${[...types].join(", ")}`);
    }
    const calls = final.output.filter((i) => i.type === "function_call");
    assert.equal(calls.length, 2);
    assert.deepEqual(JSON.parse(calls[0].arguments), { city: "Paris", days: 3 });
    assert.equal(argumentDeltas, calls[0].arguments + calls[1].arguments);

    // Codex's way: send the output items back with the function results, nothing stored server-side.
    const next = [...input, ...final.output, ...calls.map((c) => ({ type: "function_call_output", call_id: c.call_id, output: "Sunny, 21 C" }))];
    const answer = await client.responses.create({ model: MODEL, input: next, tools: RESPONSES_TOOLS, store: false });
    assert.equal(answer.output_text, "It is sunny in Paris.");
  });

  test("errors: stored state, bad items, engine failure mid-stream", async () => {
    await assert.rejects(
      client.responses.create({ model: MODEL, input: "hi", previous_response_id: "resp_123" }),
      (e) => e instanceof OpenAI.BadRequestError && e.param === "previous_response_id",
    );
    await assert.rejects(
      client.responses.create({ model: MODEL, input: [{ type: "function_call_output", call_id: "nope", output: "x" }] }),
      (e) => e instanceof OpenAI.BadRequestError && e.param === "input.0.call_id",
    );
    const stream = await client.responses.create({ model: MODEL, input: "explode", stream: true });
    const types = [];
    await assert.rejects(async () => {
      for await (const event of stream) types.push(event.type);
    }, /simulated engine failure/);
    assert.ok(main.alive());
  });
});
