// Several requests through the serve layer at once (Completion over the scripted model with several
// slots, real tokenizer, renderer and parser): they stream together, a blocked client holds up only
// itself, cancelling one leaves the others alone, a stop sequence drops what was generated after it,
// each output equals the request's output alone, and the API answers 529 beyond running + waiting.
// Ordering is proved with latches, not timings; a latch that never opens fails after a generous bound.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "api/api_server.h"
#include "chat/scripted_responder.h"
#include "serve/completion.h"
#include "user_request.h"
#include "util/error.h"

namespace hearth::serve {
namespace {

constexpr auto kNeverExpected = std::chrono::seconds(60);  // only bounds a test that is already failing

std::shared_ptr<const chat::Tokenizer> qwen_tokenizer() {
  static auto t = chat::Tokenizer::load(HEARTH_TEST_TOKENIZER_DIR);
  return t;
}

// "endless" is far longer than any test waits for: the tests that start it cancel it.
const std::string kScript = std::string(R"({"rules":[
  {"when_last_user_contains":"endless","respond":")") + [] {
  std::string words;
  for (int i = 0; i < 2000; ++i) words += "word ";
  return words;
}() + R"(","token_delay_ms":2},
  {"when_last_user_contains":"long","respond":"<think>\nA long one.\n</think>\n\nOne two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty.","token_delay_ms":1},
  {"when_last_user_contains":"short","respond":"<think>\nShort.\n</think>\n\nAlpha beta gamma."},
  {"otherwise":true,"respond":"<think>\nEasy.\n</think>\n\nHello there, friend."}]})";

// Long enough for the "endless" reply to be cancelled rather than end.
api::MessagesRequest ask(const std::string& text) { return testing::user_request(text, 3000); }

std::unique_ptr<Completion> make_completion(int32_t slots) {
  CompletionSettings settings;
  settings.max_context = 4096;
  settings.sampling.temperature = 0;
  return std::make_unique<Completion>(
      qwen_tokenizer(), chat::make_scripted_model(qwen_tokenizer(), chat::parse_script(kScript, "test"), 4096, slots),
      settings);
}

struct Result {
  std::string text;  // every delta, thinking and text, in order
  api::GenerationOutcome outcome;
};

// Runs one request; `on_event` (optional) sees each event first and may stop the stream.
Result run(Completion& completion, const api::MessagesRequest& request,
           std::function<bool(const ContentEvent&)> on_event = {}, const std::atomic<bool>* cancel = nullptr) {
  Result r;
  auto prepared = completion.prepare(request);
  api::GenerationHooks hooks;
  hooks.on_event = [&](const ContentEvent& e) {
    if (on_event && !on_event(e)) return false;
    if (e.type == EventType::block_delta) r.text += e.text;
    return true;
  };
  hooks.cancel = cancel;
  r.outcome = completion.generate(*prepared, hooks);
  return r;
}

Result alone(const std::string& prompt) {
  auto completion = make_completion(1);
  return run(*completion, ask(prompt));
}

TEST(ParallelCompletion, ReportsItsSlotsAsParallelRequests) {
  EXPECT_EQ(make_completion(3)->status().parallel, 3);
}

TEST(ParallelCompletion, SecondRequestFinishesWhileTheFirstClientIsStillBlocked) {
  auto completion = make_completion(2);
  std::promise<void> short_done;
  std::shared_future<void> short_done_future = short_done.get_future().share();
  bool waited_for_short = false;
  // The long request's client blocks on its first event until the short request is over: only
  // possible if both generate at once and the scheduler never waits for a client.
  auto long_request = std::async(std::launch::async, [&] {
    bool first = true;
    return run(*completion, ask("tell me something long"), [&](const ContentEvent&) {
      if (first) {
        first = false;
        waited_for_short = short_done_future.wait_for(kNeverExpected) == std::future_status::ready;
      }
      return true;
    });
  });
  Result short_result = run(*completion, ask("something short"));
  short_done.set_value();
  Result long_result = long_request.get();
  EXPECT_TRUE(waited_for_short);
  EXPECT_EQ(short_result.text, alone("something short").text);
  EXPECT_EQ(long_result.text, alone("tell me something long").text);
  EXPECT_EQ(long_result.outcome.usage.output_tokens, alone("tell me something long").outcome.usage.output_tokens);
  EXPECT_EQ(long_result.outcome.end, api::GenerationEnd::end_turn);
}

TEST(ParallelCompletion, CancellingOneRequestLeavesTheOtherIntact) {
  auto completion = make_completion(2);
  std::atomic<bool> cancel_long{false};
  std::promise<void> long_started;
  auto long_request = std::async(std::launch::async, [&] {
    bool first = true;
    return run(
        *completion, ask("go on endless"),
        [&](const ContentEvent&) {
          if (first) long_started.set_value();
          first = false;
          return true;
        },
        &cancel_long);
  });
  ASSERT_EQ(long_started.get_future().wait_for(kNeverExpected), std::future_status::ready);
  std::atomic<bool> cancel_short{false};
  Result short_result = run(
      *completion, ask("something short"),
      [&](const ContentEvent&) {
        cancel_long.store(true);  // while the short one streams
        return true;
      },
      &cancel_short);
  Result long_result = long_request.get();
  EXPECT_EQ(long_result.outcome.end, api::GenerationEnd::cancelled);
  EXPECT_EQ(short_result.outcome.end, api::GenerationEnd::end_turn);
  EXPECT_EQ(short_result.text, alone("something short").text);
}

TEST(ParallelCompletion, StopInTheClientCountsOnlyTheTokensUpToIt) {
  // The scheduler may run ahead of the client; what it generated after the stop must not count.
  auto completion = make_completion(2);
  const Result full = alone("hello");
  bool stopped = false;
  Result r = run(*completion, ask("hello"), [&](const ContentEvent& e) {
    if (e.kind == BlockKind::text && e.type == EventType::block_delta && e.text.find("Hello") != std::string::npos) {
      stopped = true;
      return false;
    }
    return true;
  });
  ASSERT_TRUE(stopped);
  EXPECT_EQ(r.outcome.end, api::GenerationEnd::stopped);
  // "Hello there, friend." ends the reply: the tokens after "Hello" are not output.
  const int64_t after_hello = int64_t(qwen_tokenizer()->encode(" there, friend.").size());
  EXPECT_EQ(r.outcome.usage.output_tokens, full.outcome.usage.output_tokens - after_hello);
}

TEST(ParallelCompletion, HookThatThrowsEndsItsRequestAndTheServerGoesOn) {
  auto completion = make_completion(1);
  EXPECT_THROW(run(*completion, ask("go on endless"),
                   [](const ContentEvent&) -> bool { throw std::runtime_error("client writer broke"); }),
               std::runtime_error);
  // The one slot serves the next requests: the endless one was ended, not left running (it would
  // hold the slot for its 2000 tokens).
  EXPECT_EQ(run(*completion, ask("something short")).text, alone("something short").text);
  EXPECT_EQ(run(*completion, ask("hello")).text, alone("hello").text);
}

// A stream body run later, as the HTTP server does on the connection's thread.
class CollectingStream : public api::ResponseStream {
 public:
  bool write(std::string_view bytes) override {
    body += bytes;
    return true;
  }
  bool client_gone() const override { return false; }
  std::string body;
};

TEST(ParallelCompletion, ApiRefusesRequestsBeyondRunningPlusWaiting) {
  auto completion = make_completion(2);
  api::ApiConfig config;
  config.served_model_names = {"m"};
  config.queue_size = 1;
  config.log_requests = false;
  api::ApiRoutes routes(config, *completion);
  auto post = [&](const std::string& text) {
    api::HttpRequest r;
    r.method = "POST";
    r.path = "/v1/messages";
    r.body = R"({"model":"m","max_tokens":100,"stream":true,"messages":[{"role":"user","content":")" + text + R"("}]})";
    r.client_gone = [] { return false; };
    return routes.messages(r);
  };
  // Streams take their places when admitted; their bodies run later.
  std::vector<api::HttpResponse> admitted;
  for (int i = 0; i < 3; ++i) admitted.push_back(post("short " + std::to_string(i)));
  for (const auto& response : admitted) EXPECT_EQ(response.status, 200);
  EXPECT_EQ(post("one too many").status, 529);
  std::vector<std::future<std::string>> bodies;
  for (auto& response : admitted) {
    bodies.push_back(std::async(std::launch::async, [&response] {
      CollectingStream out;
      response.stream(out);
      return out.body;
    }));
  }
  for (auto& body : bodies) EXPECT_NE(body.get().find(R"("stop_reason":"end_turn")"), std::string::npos);
  EXPECT_EQ(post("room again").status, 200);
}

}  // namespace
}  // namespace hearth::serve
