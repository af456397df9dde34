#pragma once
// One request's figures: a line of the metrics log (JSONL), the input of `hearth stats`, and what the
// Prometheus counters are fed with. Plain data; the server fills it as the request goes.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace hearth::metrics {

struct RequestRecord {
  std::string time;                 // arrival, ISO 8601 UTC with milliseconds
  std::string request_id;           // the response's message id (msg_...)
  std::string session_id;           // X-Claude-Code-Session-Id, empty when absent
  std::string model;                // as requested
  std::string endpoint = "messages";
  bool stream = false;
  int http_status = 200;
  std::string error_type;           // Anthropic error type when http_status != 200

  int64_t prompt_tokens = 0;
  int64_t cached_tokens = 0;        // prompt tokens reused (not prefilled)
  int64_t prefilled_tokens = 0;
  int64_t checkpoint_position = -1; // position of the restored checkpoint; -1: none
  std::string cache_source;         // none, live, device, host, disk ("" when the cache is off)
  bool cache_hit = false;
  int checkpoints_saved = 0;
  double checkpoint_restore_ms = 0;
  double checkpoint_save_ms = 0;

  int64_t output_tokens = 0;
  double queue_ms = 0;              // waiting for the model
  double ttft_ms = 0;               // arrival to first generated token
  double prefill_ms = 0;
  double decode_ms = 0;
  double total_ms = 0;
  double prefill_tok_s = 0;
  double decode_tok_s = 0;
  int64_t peak_gpu_bytes = 0;
  int64_t peak_host_bytes = 0;
  std::string stop_reason;          // end_turn, tool_use, max_tokens, stop_sequence, ...
  int tool_calls = 0;
};

// Fills the rates from token counts and durations (0 where a duration is 0).
void compute_rates(RequestRecord& record);

nlohmann::ordered_json to_json(const RequestRecord& record);  // keys in the order above
// Missing keys keep their defaults (older logs); a key of the wrong type throws hearth::Error.
RequestRecord record_from_json(const nlohmann::json& json);

// "2025-01-31T12:34:56.789Z" for the given time (now by default).
std::string iso8601_utc_now();

}  // namespace hearth::metrics
