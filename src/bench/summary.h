#pragma once
// Figures per model and per task over the runs of RESULTS.jsonl, the numbers behind `hearth bench report`.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "bench/run_record.h"

namespace hearth::bench {

struct ModelSummary {
  std::string model;
  std::vector<std::string> artifacts;  // distinct identities seen for this model (normally one)
  int runs = 0;
  int public_passes = 0;
  int heldout_passes = 0;
  int errors = 0;                      // runs with an error (time limit, agent failure, ...)
  double avg_wall_s = 0;
  double median_wall_s = 0;
  double avg_turns = 0;
  double avg_tool_calls = 0;
  std::optional<double> avg_prefill_tps;    // mean of the runs' averages (runs with metrics)
  std::optional<double> median_decode_tps;  // median of the runs' medians
  std::optional<int64_t> peak_gpu_bytes;
  std::optional<int64_t> peak_host_bytes;
  int cache_hits = 0;
  int cache_misses = 0;
  int64_t tokens_prefilled = 0;
  int64_t tokens_reused = 0;
  int runs_with_metrics = 0;
};

struct TaskCell {
  int runs = 0;
  int public_passes = 0;
  int heldout_passes = 0;
};

struct TaskRow {
  std::string task;
  std::string kind;
  std::vector<TaskCell> cells;  // one per model, in the order of summarize_models
};

// Models in order of first appearance; tasks sorted by id.
std::vector<ModelSummary> summarize_models(const std::vector<RunRecord>& runs);
std::vector<TaskRow> pass_matrix(const std::vector<RunRecord>& runs, const std::vector<ModelSummary>& models);

// Reads RESULTS.jsonl (blank lines skipped); throws hearth::Error naming the line at fault.
std::vector<RunRecord> read_results(const std::filesystem::path& path);

double median_of(std::vector<double> values);  // 0 for none

}  // namespace hearth::bench
