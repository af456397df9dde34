#include "bench/summary.h"

#include <algorithm>
#include <fstream>
#include <map>

#include "util/error.h"

namespace hearth::bench {

double median_of(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

std::vector<ModelSummary> summarize_models(const std::vector<RunRecord>& runs) {
  std::vector<ModelSummary> models;
  std::map<std::string, size_t> index;
  std::vector<std::vector<double>> walls, prefill, decode;
  for (const RunRecord& r : runs) {
    auto [it, added] = index.emplace(r.model, models.size());
    if (added) {
      models.emplace_back();
      models.back().model = r.model;
      walls.emplace_back();
      prefill.emplace_back();
      decode.emplace_back();
    }
    const size_t i = it->second;
    ModelSummary& m = models[i];
    if (!r.artifact.empty() && std::find(m.artifacts.begin(), m.artifacts.end(), r.artifact) == m.artifacts.end()) {
      m.artifacts.push_back(r.artifact);
    }
    ++m.runs;
    m.public_passes += r.evaluation.public_tests.passed;
    m.heldout_passes += r.evaluation.heldout.passed;
    m.errors += !r.error.empty();
    m.avg_turns += r.turns;
    m.avg_tool_calls += r.tool_calls;
    walls[i].push_back(r.wall_s);
    if (r.metrics) {
      ++m.runs_with_metrics;
      m.cache_hits += r.metrics->cache_hits;
      m.cache_misses += r.metrics->cache_misses;
      m.tokens_prefilled += r.metrics->tokens_prefilled;
      m.tokens_reused += r.metrics->tokens_reused;
      if (r.metrics->avg_prefill_tps) prefill[i].push_back(*r.metrics->avg_prefill_tps);
      if (r.metrics->median_decode_tps) decode[i].push_back(*r.metrics->median_decode_tps);
      if (r.metrics->peak_gpu_bytes) m.peak_gpu_bytes = std::max(m.peak_gpu_bytes.value_or(0), *r.metrics->peak_gpu_bytes);
      if (r.metrics->peak_host_bytes) m.peak_host_bytes = std::max(m.peak_host_bytes.value_or(0), *r.metrics->peak_host_bytes);
    }
  }
  for (size_t i = 0; i < models.size(); ++i) {
    ModelSummary& m = models[i];
    double total = 0;
    for (double w : walls[i]) total += w;
    m.avg_wall_s = total / m.runs;
    m.median_wall_s = median_of(walls[i]);
    m.avg_turns /= m.runs;
    m.avg_tool_calls /= m.runs;
    if (!prefill[i].empty()) {
      double sum = 0;
      for (double p : prefill[i]) sum += p;
      m.avg_prefill_tps = sum / static_cast<double>(prefill[i].size());
    }
    if (!decode[i].empty()) m.median_decode_tps = median_of(decode[i]);
  }
  return models;
}

std::vector<TaskRow> pass_matrix(const std::vector<RunRecord>& runs, const std::vector<ModelSummary>& models) {
  std::map<std::string, size_t> model_index;
  for (size_t i = 0; i < models.size(); ++i) model_index[models[i].model] = i;
  std::map<std::string, TaskRow> rows;
  for (const RunRecord& r : runs) {
    TaskRow& row = rows[r.task];
    row.task = r.task;
    if (row.kind.empty()) row.kind = r.task_kind;
    row.cells.resize(models.size());
    auto it = model_index.find(r.model);
    if (it == model_index.end()) continue;
    TaskCell& cell = row.cells[it->second];
    ++cell.runs;
    cell.public_passes += r.evaluation.public_tests.passed;
    cell.heldout_passes += r.evaluation.heldout.passed;
  }
  std::vector<TaskRow> out;
  for (auto& [_, row] : rows) out.push_back(std::move(row));
  return out;
}

std::vector<RunRecord> read_results(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot read benchmark results '" + path.string() + "'", ErrorKind::not_found);
  std::vector<RunRecord> runs;
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      runs.push_back(parse_run_record(line));
    } catch (const Error& e) {
      throw Error(path.string() + ":" + std::to_string(number) + ": " + e.what(), ErrorKind::invalid_request);
    }
  }
  if (runs.empty()) throw Error("benchmark results '" + path.string() + "' have no runs", ErrorKind::invalid_request);
  return runs;
}

}  // namespace hearth::bench
