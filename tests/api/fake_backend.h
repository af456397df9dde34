#pragma once
// A Backend for API tests: replies with a fixed list of chat events (optionally slowly), so routes,
// queueing and cancellation can be tested without a tokenizer or a model.
#include <chrono>
#include <thread>

#include "api/backend.h"
#include "api/http_server.h"
#include "util/error.h"

namespace hearth::api::testing {

class FakeBackend : public Backend {
 public:
  struct Prepared : PreparedGeneration {
    int64_t n = 0;
    int64_t prompt_tokens() const override { return n; }
  };

  std::vector<ContentEvent> events;
  std::chrono::milliseconds event_delay{0};
  int64_t prompt_tokens = 10;
  int64_t max_context = 100;
  std::atomic<int> generations{0};
  std::atomic<int> cancelled{0};
  bool fail_mid_stream = false;

  BackendStatus status() const override { return {true, "fake", max_context}; }
  int64_t count_tokens(const MessagesRequest&) const override { return prompt_tokens; }
  std::unique_ptr<PreparedGeneration> prepare(const MessagesRequest&) const override {
    if (prompt_tokens >= max_context) {
      throw Error("prompt is too long: " + std::to_string(prompt_tokens) + " tokens > " + std::to_string(max_context - 1) +
                      " maximum",
                  ErrorKind::prompt_too_long);
    }
    auto p = std::make_unique<Prepared>();
    p->n = prompt_tokens;
    return p;
  }
  GenerationOutcome generate(PreparedGeneration&, const GenerationHooks& hooks) override {
    ++generations;
    GenerationOutcome out;
    out.usage.input_tokens = prompt_tokens;
    hooks.on_start(out.usage);
    for (const auto& e : events) {
      if (hooks.cancel && hooks.cancel->load()) {
        ++cancelled;
        out.end = GenerationEnd::cancelled;
        return out;
      }
      if (fail_mid_stream) throw Error("model exploded", ErrorKind::internal);
      if (event_delay.count()) std::this_thread::sleep_for(event_delay);
      ++out.usage.output_tokens;
      if (!hooks.on_event(e)) {
        out.end = GenerationEnd::stopped;
        return out;
      }
    }
    out.end = GenerationEnd::end_turn;
    return out;
  }
};

// The body a streamed response writes, as a client would receive it.
struct CapturedStream : ResponseStream {
  std::string data;
  bool gone = false;
  bool write(std::string_view bytes) override {
    data.append(bytes);
    return true;
  }
  bool client_gone() const override { return gone; }
};

// The `data:` payloads of an SSE body, in order ("[DONE]" kept as is).
inline std::vector<std::string> sse_data(const std::string& sse) {
  std::vector<std::string> out;
  size_t pos = 0;
  while ((pos = sse.find("data: ", pos)) != std::string::npos) {
    size_t end = sse.find("\n\n", pos);
    out.push_back(sse.substr(pos + 6, end - pos - 6));
    pos = end;
  }
  return out;
}

// A request as the HTTP boundary hands it over, from a client that stays connected.
inline HttpRequest post_request(std::string body, std::map<std::string, std::string> headers = {}) {
  HttpRequest r;
  r.method = "POST";
  r.body = std::move(body);
  r.headers = std::move(headers);
  r.client_gone = [] { return false; };
  return r;
}

inline std::vector<ContentEvent> text_reply(const std::vector<std::string>& pieces) {
  std::vector<ContentEvent> events;
  events.push_back({EventType::block_start, BlockKind::text, "", ""});
  for (const auto& p : pieces) events.push_back({EventType::block_delta, BlockKind::text, p, ""});
  events.push_back({EventType::block_end, BlockKind::text, "", ""});
  return events;
}

}  // namespace hearth::api::testing
