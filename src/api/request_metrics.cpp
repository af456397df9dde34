#include "api/request_metrics.h"

#include <cstdio>

#include "metrics/process_memory.h"

namespace hearth::api {
namespace {

double ms_between(std::chrono::steady_clock::time_point from, std::chrono::steady_clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

metrics::RequestRecord base_record(const MessagesRequest& request, const std::string& id, const RequestTiming& timing) {
  metrics::RequestRecord r;
  r.time = timing.arrival_time;
  r.request_id = id;
  r.endpoint = timing.endpoint;
  r.session_id = request.session_id;
  r.model = request.model;
  r.stream = request.stream;
  const auto done = timing.done.value_or(std::chrono::steady_clock::now());
  r.total_ms = ms_between(timing.arrival, done);
  if (timing.turn) r.queue_ms = ms_between(timing.arrival, *timing.turn);
  r.peak_host_bytes = metrics::process_peak_rss_bytes();
  return r;
}

}  // namespace

void RequestMetrics::generated(const MessagesRequest& request, const std::string& message_id, const RequestTiming& timing,
                               const GenerationOutcome& outcome, std::optional<StopReason> stop_reason) {
  if (!enabled()) return;
  metrics::RequestRecord r = base_record(request, message_id, timing);
  const GenerationStats& s = outcome.stats;
  r.prompt_tokens = s.prompt_tokens;
  r.cached_tokens = outcome.usage.cache_read_input_tokens;
  r.prefilled_tokens = s.prefilled_tokens;
  r.checkpoint_position = s.checkpoint_position;
  r.cache_source = s.cache_source;
  r.cache_hit = r.cached_tokens > 0;
  r.checkpoints_saved = s.checkpoints_saved;
  r.checkpoint_restore_ms = s.restore_seconds * 1000;
  r.checkpoint_save_ms = s.checkpoint_save_seconds * 1000;
  r.output_tokens = outcome.usage.output_tokens;
  if (timing.turn && s.first_token_seconds > 0) r.ttft_ms = r.queue_ms + s.first_token_seconds * 1000;
  r.prefill_ms = s.prefill_seconds * 1000;
  r.decode_ms = s.decode_seconds * 1000;
  metrics::compute_rates(r);
  r.peak_gpu_bytes = s.peak_device_bytes;
  r.tool_calls = s.tool_calls;
  if (outcome.end == GenerationEnd::cancelled) {
    r.stop_reason = "cancelled";
    r.http_status = 499;  // client closed the request (nginx's convention); nothing was answered
  } else if (stop_reason) {
    r.stop_reason = std::string(stop_reason_name(*stop_reason));
  }
  submit(r);
}

void RequestMetrics::failed(const MessagesRequest& request, const std::string& request_id, const RequestTiming& timing,
                            ErrorType type) {
  if (!enabled()) return;
  metrics::RequestRecord r = base_record(request, request_id, timing);
  r.http_status = http_status(type);
  r.error_type = std::string(error_type_name(type));
  submit(r);
}

void RequestMetrics::submit(const metrics::RequestRecord& record) {
  if (server_) server_->record(record);
  if (!log_) return;
  try {
    log_->write(record);
  } catch (const std::exception& e) {
    if (!log_failed_.exchange(true)) {
      std::fprintf(stderr, "hearth: metrics log: %s (further failures not reported)\n", e.what());
    }
  }
}

}  // namespace hearth::api
