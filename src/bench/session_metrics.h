#pragma once
// Per-session figures from hearth's metrics log (one JSON object per request, written by `hearth serve`;
// see issue 6). Requests are grouped by the session id that Claude Code sends (X-Claude-Code-Session-Id).
//
// The fields read are those of hearth::metrics::RequestRecord (src/metrics/request_record.h): session_id,
// endpoint, http_status, cache_hit, cached_tokens, prefilled_tokens, prefill_tok_s, decode_tok_s,
// peak_gpu_bytes, peak_host_bytes. Only successful Messages requests count; a missing key counts as
// absent, so older or partial logs still read.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace hearth::bench {

struct SessionMetrics {
  int requests = 0;
  int cache_hits = 0;
  int cache_misses = 0;
  int64_t tokens_prefilled = 0;
  int64_t tokens_reused = 0;
  std::optional<double> avg_prefill_tps;     // mean over requests that prefilled something
  std::optional<double> median_decode_tps;   // median over requests that decoded something
  std::optional<int64_t> peak_gpu_bytes;     // the largest any request of the session reported
  std::optional<int64_t> peak_host_bytes;
};

// The session's figures, or nothing when the log does not exist or has no line for the session.
// Lines that are not JSON objects are skipped.
std::optional<SessionMetrics> read_session_metrics(const std::filesystem::path& metrics_log,
                                                   const std::string& session_id);

}  // namespace hearth::bench
