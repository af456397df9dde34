// POST /v1/chat/completions over a fake backend: the completion object and the chunk stream for text,
// reasoning and parallel tool calls, usage with cached tokens, and OpenAI-shaped errors for each refusal.
#include <gtest/gtest.h>

#include <thread>

#include "api/api_server.h"
#include "api/openai_chat_encoding.h"
#include "api/openai_routes.h"
#include "fake_backend.h"

namespace hearth::api {
namespace {

using testing::FakeBackend;
using testing::CapturedStream;
using testing::text_reply;

HttpRequest post(std::string body, std::string bearer = {}) {
  if (bearer.empty()) return testing::post_request(std::move(body));
  return testing::post_request(std::move(body), {{"authorization", "Bearer " + bearer}});
}

ApiConfig config(std::string token = {}) {
  ApiConfig c;
  c.served_model_names = {"m"};
  c.auth_token = std::move(token);
  c.queue_size = 1;
  c.log_requests = false;
  c.disconnect_poll_ms = 2;
  return c;
}

const std::string kBody = R"({"model":"m","messages":[{"role":"user","content":"hi"}]})";
const std::string kStreamBody =
    R"({"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]})";

std::vector<ContentEvent> thinking_then_two_calls() {
  return {
      {EventType::block_start, BlockKind::thinking, "", ""},
      {EventType::block_delta, BlockKind::thinking, "Two cities.", ""},
      {EventType::block_end, BlockKind::thinking, "", ""},
      {EventType::block_start, BlockKind::tool_use, "", "get_weather"},
      {EventType::block_delta, BlockKind::tool_use, "{\"city\":", ""},
      {EventType::block_delta, BlockKind::tool_use, "\"Paris\"}", ""},
      {EventType::block_end, BlockKind::tool_use, "", ""},
      {EventType::block_start, BlockKind::tool_use, "", "get_weather"},
      {EventType::block_delta, BlockKind::tool_use, "{\"city\":\"Oslo\"}", ""},
      {EventType::block_end, BlockKind::tool_use, "", ""},
  };
}

TEST(OpenAiChatRoutes, NonStreamingCompletionHasMessageFinishReasonAndUsage) {
  FakeBackend backend;
  backend.events = text_reply({"Hel", "lo"});
  ApiRoutes routes(config(), backend);
  OpenAiRoutes openai(routes);
  HttpResponse r = openai.chat_completions(post(kBody));
  ASSERT_EQ(r.status, 200) << r.body;
  Json c = Json::parse(r.body);
  EXPECT_EQ(c["object"], "chat.completion");
  EXPECT_TRUE(c["id"].get<std::string>().starts_with("chatcmpl-"));
  EXPECT_EQ(c["model"], "m");
  EXPECT_EQ(c["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(c["choices"][0]["message"]["content"], "Hello");
  EXPECT_EQ(c["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(c["usage"]["prompt_tokens"], 10);
  EXPECT_EQ(c["usage"]["completion_tokens"], 4);
  EXPECT_EQ(c["usage"]["total_tokens"], 14);
  EXPECT_EQ(c["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
}

TEST(OpenAiChatRoutes, NonStreamingToolCallsAndReasoning) {
  FakeBackend backend;
  backend.events = thinking_then_two_calls();
  ApiRoutes routes(config(), backend);
  OpenAiRoutes openai(routes);
  HttpResponse r = openai.chat_completions(post(kBody));
  ASSERT_EQ(r.status, 200) << r.body;
  Json m = Json::parse(r.body)["choices"][0]["message"];
  EXPECT_EQ(m["content"], nullptr);
  EXPECT_EQ(m["reasoning_content"], "Two cities.");
  ASSERT_EQ(m["tool_calls"].size(), 2u);
  EXPECT_TRUE(m["tool_calls"][0]["id"].get<std::string>().starts_with("call_"));
  EXPECT_NE(m["tool_calls"][0]["id"], m["tool_calls"][1]["id"]);
  EXPECT_EQ(m["tool_calls"][0]["type"], "function");
  EXPECT_EQ(m["tool_calls"][0]["function"]["name"], "get_weather");
  EXPECT_EQ(m["tool_calls"][0]["function"]["arguments"], R"({"city":"Paris"})");
  EXPECT_EQ(m["tool_calls"][1]["function"]["arguments"], R"({"city":"Oslo"})");
  EXPECT_EQ(Json::parse(r.body)["choices"][0]["finish_reason"], "tool_calls");
}

TEST(OpenAiChatRoutes, StreamIsChunksThenUsageThenDone) {
  FakeBackend backend;
  backend.events = thinking_then_two_calls();
  ApiRoutes routes(config(), backend);
  OpenAiRoutes openai(routes);
  HttpResponse r = openai.chat_completions(post(kStreamBody));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "text/event-stream");
  CapturedStream out;
  r.stream(out);
  std::vector<std::string> data = testing::sse_data(out.data);
  ASSERT_GE(data.size(), 3u) << out.data;
  EXPECT_EQ(data.back(), "[DONE]");
  std::vector<Json> chunks;
  for (size_t i = 0; i + 1 < data.size(); ++i) chunks.push_back(Json::parse(data[i]));
  EXPECT_EQ(chunks.front()["choices"][0]["delta"]["role"], "assistant");
  std::string reasoning, args0, args1;
  std::vector<std::string> names;
  for (const Json& c : chunks) {
    EXPECT_EQ(c["object"], "chat.completion.chunk");
    EXPECT_EQ(c["id"], chunks.front()["id"]);
    if (c["choices"].empty()) continue;
    const Json& delta = c["choices"][0]["delta"];
    if (delta.contains("reasoning_content")) reasoning += delta["reasoning_content"].get<std::string>();
    if (delta.contains("tool_calls")) {
      const Json& call = delta["tool_calls"][0];
      if (call.contains("id")) names.push_back(call["function"]["name"]);
      std::string& args = call["index"] == 0 ? args0 : args1;
      args += call["function"]["arguments"].get<std::string>();
    }
  }
  EXPECT_EQ(reasoning, "Two cities.");
  EXPECT_EQ(names, (std::vector<std::string>{"get_weather", "get_weather"}));
  EXPECT_EQ(args0, R"({"city":"Paris"})");
  EXPECT_EQ(args1, R"({"city":"Oslo"})");
  const Json& finish = chunks[chunks.size() - 2];
  EXPECT_EQ(finish["choices"][0]["finish_reason"], "tool_calls");
  const Json& usage = chunks.back();
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["prompt_tokens"], 10);
  EXPECT_EQ(usage["usage"]["completion_tokens"], 10);
}

TEST(OpenAiChatRoutes, StopSequenceEndsTheTextAndFinishesWithStop) {
  FakeBackend backend;
  backend.events = text_reply({"The answer is 42. E", "ND never sent"});
  ApiRoutes routes(config(), backend);
  OpenAiRoutes openai(routes);
  HttpResponse r = openai.chat_completions(post(R"({"model":"m","stop":["END"],"messages":[{"role":"user","content":"q"}]})"));
  Json c = Json::parse(r.body);
  EXPECT_EQ(c["choices"][0]["message"]["content"], "The answer is 42. ");
  EXPECT_EQ(c["choices"][0]["finish_reason"], "stop");
}

TEST(OpenAiChatRoutes, FailureMidStreamIsAnErrorObjectAndNoDone) {
  FakeBackend backend;
  backend.events = text_reply({"a"});
  backend.fail_mid_stream = true;
  ApiRoutes routes(config(), backend);
  OpenAiRoutes openai(routes);
  HttpResponse r = openai.chat_completions(post(kStreamBody));
  CapturedStream out;
  r.stream(out);
  std::vector<std::string> data = testing::sse_data(out.data);
  ASSERT_FALSE(data.empty());
  Json last = Json::parse(data.back());
  EXPECT_EQ(last["error"]["type"], "server_error");
  EXPECT_EQ(last["error"]["message"], "model exploded");
  EXPECT_EQ(out.data.find("[DONE]"), std::string::npos);
}

TEST(OpenAiChatRoutes, ErrorsHaveTheOpenAiShape) {
  FakeBackend backend;
  ApiRoutes routes(config("s3cret"), backend);
  OpenAiRoutes openai(routes);

  HttpResponse r = openai.chat_completions(post(kBody, "wrong"));
  EXPECT_EQ(r.status, 401);
  Json e = Json::parse(r.body)["error"];
  EXPECT_EQ(e["code"], "invalid_api_key");
  EXPECT_TRUE(e.contains("param") && e["param"].is_null());
  EXPECT_EQ(e["type"], "authentication_error");

  r = openai.chat_completions(post(R"({"model":"other","messages":[{"role":"user","content":"hi"}]})", "s3cret"));
  EXPECT_EQ(r.status, 404);
  e = Json::parse(r.body)["error"];
  EXPECT_EQ(e["code"], "model_not_found");
  EXPECT_EQ(e["param"], "model");

  r = openai.chat_completions(post(R"({"model":"m","n":3,"messages":[{"role":"user","content":"hi"}]})", "s3cret"));
  EXPECT_EQ(r.status, 400);
  e = Json::parse(r.body)["error"];
  EXPECT_EQ(e["type"], "invalid_request_error");
  EXPECT_EQ(e["param"], "n");
  EXPECT_EQ(e["code"], nullptr);

  r = openai.chat_completions(post("{not json", "s3cret"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json::parse(r.body)["error"]["type"], "invalid_request_error");

  backend.prompt_tokens = 150;  // over the fake's 100-token context
  r = openai.chat_completions(post(kBody, "s3cret"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json::parse(r.body)["error"]["code"], "context_length_exceeded");
}

TEST(OpenAiChatRoutes, MaxTokensOverTheServerLimitIsRefused) {
  FakeBackend backend;
  ApiConfig c = config();
  c.max_output_tokens = 100;
  ApiRoutes routes(c, backend);
  OpenAiRoutes openai(routes);
  HttpResponse r = openai.chat_completions(post(R"({"model":"m","max_tokens":500,"messages":[{"role":"user","content":"hi"}]})"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json::parse(r.body)["error"]["param"], "max_completion_tokens");
}

TEST(OpenAiChatRoutes, FullQueueIs503Overloaded) {
  FakeBackend backend;
  backend.events = text_reply({"a"});
  ApiRoutes routes(config(), backend);  // queue_size 1
  OpenAiRoutes openai(routes);
  auto hold = const_cast<RequestQueue&>(routes.queue()).try_enter();
  hold->wait_turn({});
  HttpResponse waiting = openai.chat_completions(post(kStreamBody));
  ASSERT_EQ(waiting.status, 200);
  HttpResponse refused = openai.chat_completions(post(kBody));
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(Json::parse(refused.body)["error"]["code"], "overloaded");
  CapturedStream out;
  std::thread t([&] { waiting.stream(out); });
  hold.reset();
  t.join();
  EXPECT_EQ(testing::sse_data(out.data).back(), "[DONE]");
}

TEST(OpenAiChatRoutes, MetricsCountRequestsUnderTheirOwnEndpoint) {
  FakeBackend backend;
  backend.events = text_reply({"a"});
  metrics::ServerMetrics server_metrics;
  ApiConfig c = config();
  c.metrics = &server_metrics;
  ApiRoutes routes(c, backend);
  OpenAiRoutes openai(routes);
  ASSERT_EQ(openai.chat_completions(post(kBody)).status, 200);
  EXPECT_EQ(openai.responses(post(R"({"model":"m","input":"hi","n":2})")).status, 400);
  const std::string text = server_metrics.render();
  EXPECT_NE(text.find(R"(endpoint="chat_completions",status="200")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(endpoint="responses",status="400")"), std::string::npos) << text;
}

TEST(OpenAiModels, ListServesBothApisShapes) {
  FakeBackend backend;
  ApiRoutes routes(config(), backend);
  Json body = Json::parse(routes.list_models(HttpRequest{}).body);
  EXPECT_EQ(body["object"], "list");
  EXPECT_EQ(body["data"][0]["id"], "m");
  EXPECT_EQ(body["data"][0]["object"], "model");
  EXPECT_EQ(body["data"][0]["owned_by"], "hearth");
  EXPECT_EQ(body["data"][0]["type"], "model");  // Anthropic's field, kept
  EXPECT_EQ(body["has_more"], false);
}

}  // namespace
}  // namespace hearth::api
