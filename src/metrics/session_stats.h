#pragma once
// `hearth stats`: per-session summaries of a metrics log.
#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "metrics/request_record.h"

namespace hearth::metrics {

struct SessionSummary {
  std::string session_id;          // "(none)" for requests without a session header
  std::string model;               // of the last request
  std::string first_time, last_time;
  int64_t turns = 0;               // successful requests
  int64_t errors = 0;
  int64_t hits = 0;
  int64_t misses = 0;
  int64_t prompt_tokens = 0;
  int64_t prefilled_tokens = 0;
  int64_t reused_tokens = 0;
  int64_t output_tokens = 0;
  int64_t tool_calls = 0;
  double median_decode_tok_s = 0;  // over turns with a decode rate
  double median_ttft_ms = 0;
  double reused_share() const { return prompt_tokens > 0 ? static_cast<double>(reused_tokens) / prompt_tokens : 0; }
};

struct LogSummary {
  std::vector<SessionSummary> sessions;  // in order of first appearance
  SessionSummary total;                  // every request together (session_id "(all)")
  int64_t malformed_lines = 0;
  int64_t first_malformed_line = 0;      // 1-based, 0 when none
};

// Reads JSONL records; blank lines are ignored, lines that are not records are counted as malformed.
LogSummary summarize_log(std::istream& in);
std::string format_summary(const LogSummary& summary);  // the human-readable table

double median(std::vector<double> values);  // 0 for none

}  // namespace hearth::metrics
