// The routes over a fake backend: statuses and error types for each failure, streaming event order,
// count_tokens, models, health, and the queue's 529.
#include <gtest/gtest.h>

#include <thread>

#include "api/api_server.h"
#include "api/errors.h"
#include "api/response_encoding.h"
#include "fake_backend.h"

namespace hearth::api {
namespace {

using testing::FakeBackend;
using testing::CapturedStream;
using testing::text_reply;

HttpRequest post(std::string body, std::string key = {}) {
  HttpRequest r;
  r.method = "POST";
  r.body = std::move(body);
  if (!key.empty()) r.headers["x-api-key"] = key;
  r.client_gone = [] { return false; };
  return r;
}

const std::string kBody = R"({"model":"m","max_tokens":20,"messages":[{"role":"user","content":"hi"}]})";
const std::string kStreamBody = R"({"model":"m","max_tokens":20,"stream":true,"messages":[{"role":"user","content":"hi"}]})";

ApiConfig config(std::string token = {}) {
  ApiConfig c;
  c.served_model_names = {"m"};
  c.auth_token = std::move(token);
  c.queue_size = 1;
  c.log_requests = false;
  c.disconnect_poll_ms = 2;
  return c;
}

Json error_json(const HttpResponse& r) { return Json::parse(r.body); }

std::string header(const HttpResponse& r, std::string_view name) {
  for (const auto& [key, value] : r.headers) {
    if (key == name) return value;
  }
  return "(absent)";
}

std::vector<std::string> sse_types(const std::string& data) {
  std::vector<std::string> out;
  size_t pos = 0;
  while ((pos = data.find("event: ", pos)) != std::string::npos) {
    size_t end = data.find('\n', pos);
    out.push_back(data.substr(pos + 7, end - pos - 7));
    pos = end;
  }
  return out;
}

TEST(ApiRoutes, NonStreamingMessage) {
  FakeBackend backend;
  backend.events = text_reply({"Hel", "lo"});
  ApiRoutes routes(config(), backend);
  HttpResponse r = routes.messages(post(kBody));
  ASSERT_EQ(r.status, 200) << r.body;
  Json m = Json::parse(r.body);
  EXPECT_EQ(m["content"][0]["text"], "Hello");
  EXPECT_EQ(m["stop_reason"], "end_turn");
  EXPECT_EQ(m["usage"]["input_tokens"], 10);
  EXPECT_EQ(m["usage"]["output_tokens"], 4);
}

TEST(ApiRoutes, StreamingMessageHasTheFullEventSequence) {
  FakeBackend backend;
  backend.events = text_reply({"a", "b"});
  ApiRoutes routes(config(), backend);
  HttpResponse r = routes.messages(post(kStreamBody));
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(r.stream);
  EXPECT_EQ(r.content_type, "text/event-stream");
  CapturedStream out;
  r.stream(out);
  EXPECT_EQ(sse_types(out.data),
            (std::vector<std::string>{"message_start", "ping", "content_block_start", "content_block_delta",
                                      "content_block_delta", "content_block_stop", "message_delta", "message_stop"}));
  EXPECT_FALSE(routes.queue().running() > 0);
}

TEST(ApiRoutes, SilentStretchesOfAStreamCarryPings) {
  FakeBackend backend;
  backend.events = text_reply({"a", "b"});
  backend.event_delay = std::chrono::milliseconds(80);
  ApiConfig c = config();
  c.ping_interval_ms = 20;
  ApiRoutes routes(c, backend);
  HttpResponse r = routes.messages(post(kStreamBody));
  CapturedStream out;
  r.stream(out);
  auto types = sse_types(out.data);
  EXPECT_GE(std::count(types.begin(), types.end(), "ping"), 3);
  EXPECT_EQ(types.back(), "message_stop");
}

TEST(ApiRoutes, FailureMidStreamIsAnErrorEvent) {
  FakeBackend backend;
  backend.events = text_reply({"a"});
  backend.fail_mid_stream = true;
  ApiRoutes routes(config(), backend);
  HttpResponse r = routes.messages(post(kStreamBody));
  CapturedStream out;
  r.stream(out);
  auto types = sse_types(out.data);
  EXPECT_EQ(types.back(), "error");
  EXPECT_NE(out.data.find("\"api_error\""), std::string::npos);
  EXPECT_NE(out.data.find("model exploded"), std::string::npos);
}

TEST(ApiRoutes, AuthenticationErrorIs401) {
  FakeBackend backend;
  ApiRoutes routes(config("tok"), backend);
  HttpResponse r = routes.messages(post(kBody));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(error_json(r)["error"]["type"], "authentication_error");
  EXPECT_EQ(routes.messages(post(kBody, "wrong")).status, 401);
  EXPECT_EQ(routes.messages(post(kBody, "tok")).status, 200);
  EXPECT_EQ(routes.count_tokens(post(kBody)).status, 401);
  EXPECT_EQ(routes.list_models(post("")).status, 401);
}

TEST(ApiRoutes, UnknownModelIs404) {
  FakeBackend backend;
  ApiRoutes routes(config(), backend);
  HttpResponse r = routes.messages(post(R"({"model":"gpt-9","max_tokens":5,"messages":[{"role":"user","content":"x"}]})"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_json(r)["error"]["type"], "not_found_error");
  EXPECT_NE(error_json(r)["error"]["message"].get<std::string>().find("gpt-9"), std::string::npos);
}

TEST(ApiRoutes, InvalidRequestIs400WithRequestId) {
  FakeBackend backend;
  ApiRoutes routes(config(), backend);
  HttpResponse r = routes.messages(post("{nope"));
  EXPECT_EQ(r.status, 400);
  Json j = error_json(r);
  EXPECT_EQ(j["error"]["type"], "invalid_request_error");
  EXPECT_TRUE(j["request_id"].get<std::string>().starts_with("req_"));
}

TEST(ApiRoutes, PromptTooLongIs400WithTheCompactionText) {
  FakeBackend backend;
  backend.prompt_tokens = 150;
  ApiRoutes routes(config(), backend);
  HttpResponse r = routes.messages(post(kStreamBody));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_json(r)["error"]["message"], "prompt is too long: 150 tokens > 99 maximum");
}

TEST(ApiRoutes, FullQueueIs529OverloadedAndHealthShowsDepth) {
  FakeBackend backend;
  backend.events = text_reply({"a"});
  ApiRoutes routes(config(), backend);  // queue_size 1
  auto hold = const_cast<RequestQueue&>(routes.queue()).try_enter();  // occupies the model
  hold->wait_turn({});
  HttpResponse waiting = routes.messages(post(kStreamBody));  // admitted, waits in line
  ASSERT_EQ(waiting.status, 200);
  HttpResponse refused = routes.messages(post(kBody));
  EXPECT_EQ(refused.status, 529);
  EXPECT_EQ(error_json(refused)["error"]["type"], "overloaded_error");
  EXPECT_EQ(header(refused, "x-should-retry"), "true");  // a busy server may take it later
  Json health = Json::parse(routes.health(HttpRequest{}).body);
  EXPECT_EQ(health["queue"]["running"], 1);
  EXPECT_EQ(health["queue"]["waiting"], 1);
  EXPECT_EQ(health["model_loaded"], true);
  CapturedStream out;
  std::thread t([&] { waiting.stream(out); });
  hold.reset();
  t.join();
  EXPECT_EQ(sse_types(out.data).back(), "message_stop");
}

TEST(ApiRoutes, ClientGoneWhileGeneratingCancelsTheGeneration) {
  FakeBackend backend;
  backend.events = text_reply(std::vector<std::string>(200, "x"));
  backend.event_delay = std::chrono::milliseconds(5);
  ApiRoutes routes(config(), backend);
  std::atomic<bool> gone{false};
  HttpRequest req = post(kStreamBody);
  req.client_gone = [&] { return gone.load(); };
  HttpResponse r = routes.messages(req);
  CapturedStream out;
  std::thread t([&] { r.stream(out); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  gone = true;
  t.join();
  EXPECT_EQ(backend.cancelled.load(), 1);
  EXPECT_EQ(out.data.find("message_stop"), std::string::npos);
  EXPECT_FALSE(routes.queue().running() > 0);
}

TEST(ApiRoutes, CountTokensModelsAndRoot) {
  FakeBackend backend;
  backend.prompt_tokens = 42;
  ApiRoutes routes(config(), backend);
  HttpResponse c = routes.count_tokens(post(R"({"model":"m","messages":[{"role":"user","content":"x"}]})"));
  ASSERT_EQ(c.status, 200) << c.body;
  EXPECT_EQ(Json::parse(c.body)["input_tokens"], 42);
  Json models = Json::parse(routes.list_models(HttpRequest{}).body);
  EXPECT_EQ(models["data"][0]["id"], "m");
  EXPECT_EQ(models["data"][0]["type"], "model");
  HttpRequest get;
  get.path_params = {"m"};
  EXPECT_EQ(routes.get_model(get).status, 200);
  get.path_params = {"other"};
  EXPECT_EQ(routes.get_model(get).status, 404);
  EXPECT_EQ(routes.root(HttpRequest{}).status, 200);
}

TEST(ApiRoutes, BoundaryErrorsUseAnthropicTypes) {
  FakeBackend backend;
  ApiRoutes routes(config(), backend);
  EXPECT_EQ(error_json(routes.boundary_error(413, "big"))["error"]["type"], "request_too_large");
  EXPECT_EQ(error_json(routes.boundary_error(404, "x"))["error"]["type"], "not_found_error");
  EXPECT_EQ(routes.boundary_error(408, "slow").status, 408);
  EXPECT_EQ(error_json(routes.boundary_error(400, "bad http"))["error"]["type"], "invalid_request_error");
}

// The boundary's refusals on the OpenAI routes come in OpenAI's error shape ({"error": {message, type,
// param, code}}, no "type":"error" envelope), keeping the boundary's status.
TEST(ApiRoutes, BoundaryErrorsOnOpenAiPathsUseTheOpenAiShape) {
  FakeBackend backend;
  ApiRoutes routes(config(), backend);
  for (const std::string path : {"/v1/chat/completions", "/v1/responses"}) {
    const HttpResponse big = routes.boundary_error(413, "big", path);
    EXPECT_EQ(big.status, 413) << path;
    const Json body = error_json(big);
    EXPECT_FALSE(body.contains("type")) << path;
    EXPECT_EQ(body["error"]["message"], "big") << path;
    EXPECT_TRUE(body["error"].contains("code")) << path;
    EXPECT_EQ(routes.boundary_error(408, "slow", path).status, 408) << path;
  }
  EXPECT_EQ(error_json(routes.boundary_error(413, "big", "/v1/messages"))["type"], "error");
}

TEST(ApiRoutes, ErrorsSayWhetherRetryingCanHelpAsTheApiDoes) {
  FakeBackend backend;
  ApiRoutes routes(config("tok"), backend);
  // A wrong key, a bad body, an unknown model: only a different request can succeed.
  EXPECT_EQ(header(routes.messages(post(kBody, "wrong")), "x-should-retry"), "false");
  EXPECT_EQ(header(routes.messages(post("{nope", "tok")), "x-should-retry"), "false");
  EXPECT_EQ(header(routes.messages(post(R"({"model":"x","max_tokens":5,"messages":[{"role":"user","content":"x"}]})", "tok")),
                   "x-should-retry"),
            "false");
  EXPECT_EQ(header(routes.boundary_error(413, "big"), "x-should-retry"), "false");
  EXPECT_EQ(header(routes.boundary_error(405, "no"), "x-should-retry"), "false");
  EXPECT_EQ(routes.boundary_error(405, "no").status, 405);
  // A slow body or a server-side failure may pass next time.
  EXPECT_EQ(header(routes.boundary_error(408, "slow"), "x-should-retry"), "true");
  EXPECT_EQ(header(routes.boundary_error(500, "oops"), "x-should-retry"), "true");
  // A success carries no such header.
  EXPECT_EQ(header(routes.messages(post(kBody, "tok")), "x-should-retry"), "(absent)");
}

TEST(ApiRoutes, MaxTokensOverTheServerLimitIsRefusedInTheApisWords) {
  FakeBackend backend;
  ApiConfig c = config();
  c.max_output_tokens = 4096;
  ApiRoutes routes(c, backend);
  HttpResponse r = routes.messages(post(R"({"model":"m","max_tokens":32000,"messages":[{"role":"user","content":"hi"}]})"));
  ASSERT_EQ(r.status, 400);
  EXPECT_EQ(error_json(r)["error"]["message"],
            "max_tokens: 32000 > 4096, which is the maximum allowed number of output tokens for m");
  EXPECT_EQ(header(r, "x-should-retry"), "false");
  // At the limit it generates; count_tokens does not care about max_tokens.
  EXPECT_EQ(routes.messages(post(R"({"model":"m","max_tokens":4096,"messages":[{"role":"user","content":"hi"}]})")).status, 200);
  EXPECT_EQ(routes.count_tokens(post(R"({"model":"m","max_tokens":99999,"messages":[{"role":"user","content":"x"}]})")).status, 200);
}

TEST(ShouldRetry, FollowsTheStatusClass) {
  for (int status : {400, 401, 403, 404, 405, 413, 414, 422}) EXPECT_FALSE(should_retry(status)) << status;
  for (int status : {408, 409, 429, 500, 502, 503, 529}) EXPECT_TRUE(should_retry(status)) << status;
}

}  // namespace
}  // namespace hearth::api
