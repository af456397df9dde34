#pragma once
// The routes' side of the metrics: one record per generating request (/v1/messages and the OpenAI routes), built from what the API layer
// knows (arrival, session, queue wait, stop reason, status) and what the backend reported
// (GenerationStats), sent to the metrics log and the Prometheus counters when they are configured.
#include <atomic>
#include <chrono>
#include <optional>
#include <string>

#include "api/backend.h"
#include "api/errors.h"
#include "api/stream_events.h"
#include "metrics/metrics_log.h"
#include "metrics/server_metrics.h"

namespace hearth::api {

// What the routes know of a request besides its body: its route and times.
struct RequestTiming {
  std::string endpoint = "messages";                           // messages, chat_completions, responses
  std::chrono::steady_clock::time_point arrival;
  std::string arrival_time;                                    // ISO 8601 UTC
  std::optional<std::chrono::steady_clock::time_point> turn;   // the model became ours
  std::optional<std::chrono::steady_clock::time_point> done;
};

class RequestMetrics {
 public:
  RequestMetrics(metrics::MetricsLog* log, metrics::ServerMetrics* server) : log_(log), server_(server) {}
  bool enabled() const { return log_ || server_; }

  // A request that generated (completed or cancelled).
  void generated(const MessagesRequest& request, const std::string& message_id, const RequestTiming& timing,
                 const GenerationOutcome& outcome, std::optional<StopReason> stop_reason);
  // A request that failed with `type` (before or during generation). `request` may be partly filled.
  void failed(const MessagesRequest& request, const std::string& request_id, const RequestTiming& timing, ErrorType type);

 private:
  void submit(const metrics::RequestRecord& record);
  metrics::MetricsLog* log_;
  metrics::ServerMetrics* server_;
  std::atomic<bool> log_failed_{false};  // warn once on stderr, never fail a request over its log line
};

}  // namespace hearth::api
