// hearth stats: per-session summaries of a metrics log written by `hearth serve --metrics-log FILE`.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "app/command.h"
#include "metrics/session_stats.h"
#include "util/error.h"

namespace {

constexpr const char* kUsage =
    "usage: hearth stats METRICS.jsonl [--json]\n"
    "Summarises a metrics log per session (X-Claude-Code-Session-Id): turns, cache hits and misses,\n"
    "prompt tokens prefilled against reused, median time to first token and decode tokens/s.\n"
    "  --json   one JSON object per session instead of the table\n"
    "A path of - reads standard input.\n";

nlohmann::ordered_json to_json(const hearth::metrics::SessionSummary& s) {
  nlohmann::ordered_json j;
  j["session_id"] = s.session_id;
  j["model"] = s.model;
  j["first_time"] = s.first_time;
  j["last_time"] = s.last_time;
  j["turns"] = s.turns;
  j["errors"] = s.errors;
  j["hits"] = s.hits;
  j["misses"] = s.misses;
  j["prompt_tokens"] = s.prompt_tokens;
  j["prefilled_tokens"] = s.prefilled_tokens;
  j["reused_tokens"] = s.reused_tokens;
  j["output_tokens"] = s.output_tokens;
  j["tool_calls"] = s.tool_calls;
  j["median_ttft_ms"] = s.median_ttft_ms;
  j["median_decode_tok_s"] = s.median_decode_tok_s;
  return j;
}

int run_stats(int argc, char** argv) {
  std::string path;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--json") {
      json = true;
    } else if (path.empty() && (arg == "-" || arg.rfind("-", 0) != 0)) {
      path = arg;
    } else {
      throw hearth::Error("unexpected argument '" + arg + "'\n" + kUsage, hearth::ErrorKind::invalid_request);
    }
  }
  if (path.empty()) throw hearth::Error(std::string("a metrics log is required\n") + kUsage, hearth::ErrorKind::invalid_request);
  std::ifstream file;
  if (path != "-") {
    file.open(path);
    if (!file) throw hearth::Error("cannot open " + path, hearth::ErrorKind::io);
  }
  hearth::metrics::LogSummary summary = hearth::metrics::summarize_log(path == "-" ? std::cin : file);
  if (json) {
    for (const auto& s : summary.sessions) std::printf("%s\n", to_json(s).dump().c_str());
    if (summary.malformed_lines > 0) {
      std::fprintf(stderr, "skipped %lld malformed line(s), the first at line %lld\n",
                   static_cast<long long>(summary.malformed_lines), static_cast<long long>(summary.first_malformed_line));
    }
  } else {
    std::fputs(hearth::metrics::format_summary(summary).c_str(), stdout);
  }
  return 0;
}

const hearth::app::CommandRegistration registration{"stats", "Summarise a metrics log per session", run_stats};

}  // namespace
