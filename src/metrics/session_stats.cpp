#include "metrics/session_stats.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "util/error.h"

namespace hearth::metrics {
namespace {

struct Accumulator {
  SessionSummary summary;
  std::vector<double> decode_rates;
  std::vector<double> ttfts;
};

void add(Accumulator& acc, const RequestRecord& r) {
  SessionSummary& s = acc.summary;
  if (s.first_time.empty()) s.first_time = r.time;
  s.last_time = r.time;
  if (!r.model.empty()) s.model = r.model;
  if (r.http_status != 200) {
    ++s.errors;
    return;
  }
  ++s.turns;
  (r.cache_hit ? s.hits : s.misses) += 1;
  s.prompt_tokens += r.prompt_tokens;
  s.prefilled_tokens += r.prefilled_tokens;
  s.reused_tokens += r.cached_tokens;
  s.output_tokens += r.output_tokens;
  s.tool_calls += r.tool_calls;
  if (r.decode_tok_s > 0) acc.decode_rates.push_back(r.decode_tok_s);
  if (r.output_tokens > 0) acc.ttfts.push_back(r.ttft_ms);
}

SessionSummary finish(Accumulator& acc) {
  acc.summary.median_decode_tok_s = median(acc.decode_rates);
  acc.summary.median_ttft_ms = median(acc.ttfts);
  return acc.summary;
}

std::string human_count(int64_t n) {
  char buf[32];
  if (n >= 10'000'000) std::snprintf(buf, sizeof buf, "%.1fM", n / 1e6);
  else if (n >= 10'000) std::snprintf(buf, sizeof buf, "%.1fk", n / 1e3);
  else std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(n));
  return buf;
}

}  // namespace

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

LogSummary summarize_log(std::istream& in) {
  LogSummary out;
  std::vector<std::string> order;
  std::map<std::string, Accumulator> sessions;
  Accumulator total;
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    RequestRecord record;
    try {
      record = record_from_json(nlohmann::json::parse(line));
    } catch (const std::exception&) {  // a parse error or a field of the wrong type
      if (out.malformed_lines++ == 0) out.first_malformed_line = number;
      continue;
    }
    std::string id = record.session_id.empty() ? "(none)" : record.session_id;
    auto [it, inserted] = sessions.try_emplace(id);
    if (inserted) {
      order.push_back(id);
      it->second.summary.session_id = id;
    }
    add(it->second, record);
    add(total, record);
  }
  for (const std::string& id : order) out.sessions.push_back(finish(sessions[id]));
  total.summary.session_id = "(all)";
  out.total = finish(total);
  return out;
}

std::string format_summary(const LogSummary& summary) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "%-38s %5s %5s %6s %9s %9s %9s %7s %8s %8s\n", "session", "turns", "hits", "misses",
                "prompt", "prefilled", "reused", "reused%", "ttft_ms", "decode/s");
  out += line;
  auto row = [&](const SessionSummary& s) {
    std::snprintf(line, sizeof line, "%-38s %5lld %5lld %6lld %9s %9s %9s %6.1f%% %8.0f %8.1f\n", s.session_id.c_str(),
                  static_cast<long long>(s.turns), static_cast<long long>(s.hits), static_cast<long long>(s.misses),
                  human_count(s.prompt_tokens).c_str(), human_count(s.prefilled_tokens).c_str(),
                  human_count(s.reused_tokens).c_str(), 100.0 * s.reused_share(), s.median_ttft_ms,
                  s.median_decode_tok_s);
    out += line;
  };
  for (const SessionSummary& s : summary.sessions) row(s);
  if (summary.sessions.size() > 1) row(summary.total);
  if (summary.total.errors > 0) {
    out += "errors: " + std::to_string(summary.total.errors) + " request(s) failed\n";
  }
  if (summary.malformed_lines > 0) {
    out += "skipped " + std::to_string(summary.malformed_lines) + " malformed line(s), the first at line " +
           std::to_string(summary.first_malformed_line) + "\n";
  }
  return out;
}

}  // namespace hearth::metrics
