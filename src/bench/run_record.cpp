#include "bench/run_record.h"

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace hearth::bench {
namespace {

using nlohmann::json;

json suite_json(const SuiteResult& s) { return {{"passed", s.passed}, {"pass", s.pass}, {"fail", s.fail}}; }

SuiteResult suite_from(const json& j) {
  return SuiteResult{j.at("passed").get<bool>(), j.value("pass", 0), j.value("fail", 0)};
}

template <typename T>
json optional_json(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

template <typename T>
std::optional<T> optional_from(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return it->get<T>();
}

json metrics_json(const std::optional<SessionMetrics>& m) {
  if (!m) return nullptr;
  return {{"requests", m->requests},
          {"cache_hits", m->cache_hits},
          {"cache_misses", m->cache_misses},
          {"tokens_prefilled", m->tokens_prefilled},
          {"tokens_reused", m->tokens_reused},
          {"avg_prefill_tps", optional_json(m->avg_prefill_tps)},
          {"median_decode_tps", optional_json(m->median_decode_tps)},
          {"peak_gpu_bytes", optional_json(m->peak_gpu_bytes)},
          {"peak_host_bytes", optional_json(m->peak_host_bytes)}};
}

std::optional<SessionMetrics> metrics_from(const json& j) {
  if (j.is_null()) return std::nullopt;
  SessionMetrics m;
  m.requests = j.value("requests", 0);
  m.cache_hits = j.value("cache_hits", 0);
  m.cache_misses = j.value("cache_misses", 0);
  m.tokens_prefilled = j.value("tokens_prefilled", int64_t{0});
  m.tokens_reused = j.value("tokens_reused", int64_t{0});
  m.avg_prefill_tps = optional_from<double>(j, "avg_prefill_tps");
  m.median_decode_tps = optional_from<double>(j, "median_decode_tps");
  m.peak_gpu_bytes = optional_from<int64_t>(j, "peak_gpu_bytes");
  m.peak_host_bytes = optional_from<int64_t>(j, "peak_host_bytes");
  return m;
}

}  // namespace

std::string to_json_line(const RunRecord& r) {
  json j = {{"task", r.task},
            {"task_kind", r.task_kind},
            {"model", r.model},
            {"artifact", r.artifact},
            {"repeat", r.repeat},
            {"public_pass", r.evaluation.public_tests.passed},
            {"heldout_pass", r.evaluation.heldout.passed},
            {"public", suite_json(r.evaluation.public_tests)},
            {"heldout", suite_json(r.evaluation.heldout)},
            {"error", r.error},
            {"wall_s", r.wall_s},
            {"timed_out", r.timed_out},
            {"agent_exit_code", r.agent_exit_code},
            {"turns", r.turns},
            {"tool_calls", r.tool_calls},
            {"tools", r.tools},
            {"session_id", r.session_id},
            {"metrics", metrics_json(r.metrics)},
            {"changed_files", r.changed_files},
            {"diff", r.diff},
            {"diff_truncated", r.diff_truncated},
            {"run_dir", r.run_dir},
            {"started_at", r.started_at}};
  // Replace invalid UTF-8 (an agent may write anything) instead of failing the whole line.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

RunRecord parse_run_record(const std::string& line) {
  try {
    json j = json::parse(line);
    RunRecord r;
    r.task = j.at("task").get<std::string>();
    r.task_kind = j.value("task_kind", "");
    r.model = j.at("model").get<std::string>();
    r.artifact = j.value("artifact", "");
    r.repeat = j.value("repeat", 1);
    r.evaluation.public_tests = suite_from(j.at("public"));
    r.evaluation.heldout = suite_from(j.at("heldout"));
    r.error = j.value("error", "");
    r.wall_s = j.value("wall_s", 0.0);
    r.timed_out = j.value("timed_out", false);
    r.agent_exit_code = j.value("agent_exit_code", 0);
    r.turns = j.value("turns", 0);
    r.tool_calls = j.value("tool_calls", 0);
    r.tools = j.value("tools", std::map<std::string, int>{});
    r.session_id = j.value("session_id", "");
    r.metrics = metrics_from(j.value("metrics", json(nullptr)));
    r.changed_files = j.value("changed_files", std::vector<std::string>{});
    r.diff = j.value("diff", "");
    r.diff_truncated = j.value("diff_truncated", false);
    r.run_dir = j.value("run_dir", "");
    r.started_at = j.value("started_at", "");
    return r;
  } catch (const json::exception& e) {
    std::string shown = line.size() > 200 ? line.substr(0, 200) + "..." : line;
    throw Error("bad benchmark result line '" + shown + "': " + e.what(), ErrorKind::invalid_request);
  }
}

}  // namespace hearth::bench
