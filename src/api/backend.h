#pragma once
// What the API layer needs from whatever produces a message (serve/completion.* over a Model): token
// counts and a stream of wire-free content events. api/ never sees token ids, only counts.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "api/types.h"
#include "util/content_events.h"

namespace hearth::api {

// Token accounting as the Anthropic API reports it: input_tokens counts only prompt tokens that were
// neither read from nor written to the prompt cache; the three together are the whole prompt.
struct Usage {
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t cache_creation_input_tokens = 0;
  int64_t cache_read_input_tokens = 0;
};

enum class GenerationEnd {
  end_turn,    // the model ended its turn (or finished the single tool call it was limited to)
  max_tokens,  // the output budget or the context ran out
  stopped,     // on_event asked to stop (a stop sequence matched)
  cancelled,   // the cancel flag was raised (client gone)
};

// Figures of one generation for the metrics log and GET /metrics (counts and times, no token ids).
struct GenerationStats {
  int64_t prompt_tokens = 0;
  int64_t reused_tokens = 0;            // from the prompt cache (= usage.cache_read_input_tokens)
  int64_t prefilled_tokens = 0;
  int64_t checkpoint_position = -1;     // position of the restored checkpoint; -1: none
  std::string cache_source;             // none, live, device, host, disk; "" when the cache is off
  int checkpoints_saved = 0;
  double restore_seconds = 0;
  double checkpoint_save_seconds = 0;
  double first_token_seconds = 0;       // from the start of Backend::generate
  double prefill_seconds = 0;
  double decode_seconds = 0;
  int tool_calls = 0;
  int64_t peak_device_bytes = 0;
};

struct GenerationOutcome {
  GenerationEnd end = GenerationEnd::end_turn;
  Usage usage;
  GenerationStats stats;
};

struct GenerationHooks {
  std::function<void(const Usage&)> on_start;              // prompt accounted, before any event
  std::function<bool(const ContentEvent&)> on_event;  // return false to stop generating
  const std::atomic<bool>* cancel = nullptr;                // checked between model steps
};

// A request rendered and tokenized, ready to run. Made without the model, so it can be checked (prompt
// length) before the request waits for its turn.
class PreparedGeneration {
 public:
  virtual ~PreparedGeneration() = default;
  virtual int64_t prompt_tokens() const = 0;
};

struct BackendStatus {
  bool model_loaded = false;
  std::string description;
  int64_t max_context = 0;
  int32_t parallel = 1;  // requests generated at once (the model's sequence slots)
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual BackendStatus status() const = 0;
  // Thread-safe (no model access). Throw hearth::Error (invalid_request, prompt_too_long, ...).
  virtual int64_t count_tokens(const MessagesRequest& request) const = 0;
  virtual std::unique_ptr<PreparedGeneration> prepare(const MessagesRequest& request) const = 0;
  // Uses the model. Up to status().parallel calls may run at once (api/request_queue.h admits that
  // many); the backend makes any more wait for a free sequence slot.
  virtual GenerationOutcome generate(PreparedGeneration& prepared, const GenerationHooks& hooks) = 0;
};

}  // namespace hearth::api
