#include "metrics/request_record.h"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "util/error.h"

namespace hearth::metrics {
namespace {

template <typename T>
void read_field(const nlohmann::json& json, const char* key, T& out) {
  auto it = json.find(key);
  if (it == json.end() || it->is_null()) return;
  try {
    out = it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(std::string("metrics record: field '") + key + "' has the wrong type", ErrorKind::invalid_request);
  }
}

}  // namespace

void compute_rates(RequestRecord& r) {
  r.prefill_tok_s = r.prefill_ms > 0 ? static_cast<double>(r.prefilled_tokens) * 1000.0 / r.prefill_ms : 0;
  // The first output token comes out of the prefill; decode time covers the rest.
  int64_t decoded = r.output_tokens > 1 ? r.output_tokens - 1 : 0;
  r.decode_tok_s = r.decode_ms > 0 ? static_cast<double>(decoded) * 1000.0 / r.decode_ms : 0;
}

nlohmann::ordered_json to_json(const RequestRecord& r) {
  nlohmann::ordered_json j;
  j["time"] = r.time;
  j["request_id"] = r.request_id;
  j["session_id"] = r.session_id.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(r.session_id);
  j["model"] = r.model;
  j["endpoint"] = r.endpoint;
  j["stream"] = r.stream;
  j["http_status"] = r.http_status;
  if (!r.error_type.empty()) j["error_type"] = r.error_type;
  j["prompt_tokens"] = r.prompt_tokens;
  j["cached_tokens"] = r.cached_tokens;
  j["prefilled_tokens"] = r.prefilled_tokens;
  j["checkpoint_position"] = r.checkpoint_position >= 0 ? nlohmann::ordered_json(r.checkpoint_position) : nlohmann::ordered_json();
  j["cache_source"] = r.cache_source;
  j["cache_hit"] = r.cache_hit;
  j["checkpoints_saved"] = r.checkpoints_saved;
  j["checkpoint_restore_ms"] = r.checkpoint_restore_ms;
  j["checkpoint_save_ms"] = r.checkpoint_save_ms;
  j["output_tokens"] = r.output_tokens;
  j["queue_ms"] = r.queue_ms;
  j["ttft_ms"] = r.ttft_ms;
  j["prefill_ms"] = r.prefill_ms;
  j["decode_ms"] = r.decode_ms;
  j["total_ms"] = r.total_ms;
  j["prefill_tok_s"] = r.prefill_tok_s;
  j["decode_tok_s"] = r.decode_tok_s;
  j["peak_gpu_bytes"] = r.peak_gpu_bytes;
  j["peak_host_bytes"] = r.peak_host_bytes;
  j["stop_reason"] = r.stop_reason;
  j["tool_calls"] = r.tool_calls;
  return j;
}

RequestRecord record_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw Error("metrics record: not a JSON object", ErrorKind::invalid_request);
  RequestRecord r;
  read_field(j, "time", r.time);
  read_field(j, "request_id", r.request_id);
  read_field(j, "session_id", r.session_id);
  read_field(j, "model", r.model);
  read_field(j, "endpoint", r.endpoint);
  read_field(j, "stream", r.stream);
  read_field(j, "http_status", r.http_status);
  read_field(j, "error_type", r.error_type);
  read_field(j, "prompt_tokens", r.prompt_tokens);
  read_field(j, "cached_tokens", r.cached_tokens);
  read_field(j, "prefilled_tokens", r.prefilled_tokens);
  read_field(j, "checkpoint_position", r.checkpoint_position);
  read_field(j, "cache_source", r.cache_source);
  read_field(j, "cache_hit", r.cache_hit);
  read_field(j, "checkpoints_saved", r.checkpoints_saved);
  read_field(j, "checkpoint_restore_ms", r.checkpoint_restore_ms);
  read_field(j, "checkpoint_save_ms", r.checkpoint_save_ms);
  read_field(j, "output_tokens", r.output_tokens);
  read_field(j, "queue_ms", r.queue_ms);
  read_field(j, "ttft_ms", r.ttft_ms);
  read_field(j, "prefill_ms", r.prefill_ms);
  read_field(j, "decode_ms", r.decode_ms);
  read_field(j, "total_ms", r.total_ms);
  read_field(j, "prefill_tok_s", r.prefill_tok_s);
  read_field(j, "decode_tok_s", r.decode_tok_s);
  read_field(j, "peak_gpu_bytes", r.peak_gpu_bytes);
  read_field(j, "peak_host_bytes", r.peak_host_bytes);
  read_field(j, "stop_reason", r.stop_reason);
  read_field(j, "tool_calls", r.tool_calls);
  return r;
}

std::string iso8601_utc_now() {
  auto now = std::chrono::system_clock::now();
  std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(millis));
  return text;
}

}  // namespace hearth::metrics
