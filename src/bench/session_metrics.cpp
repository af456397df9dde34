#include "bench/session_metrics.h"

#include <algorithm>
#include <fstream>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <vector>

namespace hearth::bench {
namespace {

using nlohmann::json;

const json* first_of(const json& line, std::initializer_list<const char*> keys) {
  for (const char* key : keys) {
    auto it = line.find(key);
    if (it != line.end() && !it->is_null()) return &*it;
  }
  return nullptr;
}

std::optional<double> number_of(const json& line, std::initializer_list<const char*> keys) {
  const json* v = first_of(line, keys);
  if (v && v->is_number()) return v->get<double>();
  return std::nullopt;
}

// Lines for other endpoints (count_tokens) and failed requests say nothing about the agent's turns.
bool counts(const json& line) {
  const json* endpoint = first_of(line, {"endpoint"});
  if (endpoint && endpoint->is_string() && endpoint->get<std::string>() != "messages") return false;
  const json* status = first_of(line, {"http_status"});
  return !(status && status->is_number() && status->get<int>() != 200);
}

void raise_peak(std::optional<int64_t>& peak, std::optional<double> value) {
  if (value && *value > 0) peak = std::max(peak.value_or(0), static_cast<int64_t>(*value));
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace

std::optional<SessionMetrics> read_session_metrics(const std::filesystem::path& metrics_log,
                                                   const std::string& session_id) {
  if (session_id.empty()) return std::nullopt;
  std::ifstream in(metrics_log);
  if (!in) return std::nullopt;
  SessionMetrics m;
  std::vector<double> prefill_rates;
  std::vector<double> decode_rates;
  for (std::string text; std::getline(in, text);) {
    json line = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!line.is_object()) continue;
    const json* session = first_of(line, {"session_id"});
    if (!session || !session->is_string() || session->get<std::string>() != session_id || !counts(line)) continue;
    ++m.requests;
    if (const json* hit = first_of(line, {"cache_hit"}); hit && hit->is_boolean()) {
      ++(hit->get<bool>() ? m.cache_hits : m.cache_misses);
    }
    auto prefilled = number_of(line, {"prefilled_tokens"});
    if (prefilled) m.tokens_prefilled += static_cast<int64_t>(*prefilled);
    if (auto reused = number_of(line, {"cached_tokens"})) m.tokens_reused += static_cast<int64_t>(*reused);
    if (auto rate = number_of(line, {"prefill_tok_s"}); rate && *rate > 0) prefill_rates.push_back(*rate);
    if (auto rate = number_of(line, {"decode_tok_s"}); rate && *rate > 0) decode_rates.push_back(*rate);
    raise_peak(m.peak_gpu_bytes, number_of(line, {"peak_gpu_bytes"}));
    raise_peak(m.peak_host_bytes, number_of(line, {"peak_host_bytes"}));
  }
  if (m.requests == 0) return std::nullopt;
  if (!prefill_rates.empty()) {
    double sum = 0;
    for (double r : prefill_rates) sum += r;
    m.avg_prefill_tps = sum / static_cast<double>(prefill_rates.size());
  }
  if (!decode_rates.empty()) m.median_decode_tps = median(decode_rates);
  return m;
}

}  // namespace hearth::bench
