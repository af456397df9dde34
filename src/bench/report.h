#pragma once
// `hearth bench report`: the benchmark's tables in Markdown and its chart in SVG.
#include <string>
#include <vector>

#include "bench/run_record.h"

namespace hearth::bench {

struct ReportOptions {
  std::string title = "hearth agent benchmark";
  std::string chart_file;  // linked from the Markdown when not empty (e.g. "report.svg")
};

// Per-model table (pass counts, average and median wall time, turns, average prefill, median decode,
// cache figures, peak memory), pass matrix per task, and one line per run.
std::string markdown_report(const std::vector<RunRecord>& runs, const ReportOptions& options);

// Two bar panels per model: average wall time (s) and median decode speed (tokens/s).
std::string svg_chart(const std::vector<RunRecord>& runs);

}  // namespace hearth::bench
