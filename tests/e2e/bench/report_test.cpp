#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "bench/report.h"
#include "bench/run_record.h"
#include "bench/summary.h"
#include "util/error.h"

namespace hearth::bench {
namespace {
namespace fs = std::filesystem;

RunRecord run(const std::string& model, const std::string& task, int repeat, bool pub, bool held, double wall,
              std::optional<double> decode = std::nullopt) {
  RunRecord r;
  r.model = model;
  r.task = task;
  r.task_kind = task == "01-x" ? "bug fix" : "feature";
  r.artifact = "sha256:" + model;
  r.repeat = repeat;
  r.evaluation.public_tests = {pub, pub ? 3 : 2, pub ? 0 : 1};
  r.evaluation.heldout = {held, held ? 9 : 7, held ? 0 : 2};
  r.wall_s = wall;
  r.turns = 4;
  r.tool_calls = 3;
  if (decode) {
    SessionMetrics m;
    m.requests = 4;
    m.cache_hits = 3;
    m.cache_misses = 1;
    m.tokens_prefilled = 1000;
    m.tokens_reused = 9000;
    m.avg_prefill_tps = 2000;
    m.median_decode_tps = decode;
    m.peak_gpu_bytes = int64_t(3) << 30;
    r.metrics = m;
  }
  return r;
}

TEST(BenchRunRecord, JsonLineRoundTripsEveryField) {
  RunRecord r = run("qwen|a", "01-x", 2, true, false, 12.5, 55.0);
  r.error = "agent stopped";
  r.timed_out = true;
  r.agent_exit_code = 143;
  r.tools = {{"Bash", 2}, {"Write", 1}};
  r.session_id = "abc";
  r.changed_files = {"src/a.ts"};
  r.diff = "diff --git a/src/a.ts b/src/a.ts\n";
  r.diff_truncated = true;
  r.run_dir = "/out/runs/x";
  r.started_at = "2026-01-01T00:00:00Z";
  const std::string line = to_json_line(r);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  RunRecord back = parse_run_record(line);
  EXPECT_EQ(to_json_line(back), line);
  EXPECT_EQ(back.evaluation.heldout.fail, 2);
  EXPECT_EQ(back.metrics->peak_gpu_bytes.value_or(0), int64_t(3) << 30);
  EXPECT_FALSE(back.metrics->peak_host_bytes.has_value());
}

TEST(BenchRunRecord, InvalidUtf8InADiffIsReplacedNotFatal) {
  RunRecord r = run("m", "01-x", 1, true, true, 1);
  r.diff = std::string("bad \xff byte");
  EXPECT_NO_THROW(parse_run_record(to_json_line(r)));
}

TEST(BenchRunRecord, BadLinesAreClearErrors) {
  EXPECT_THROW(parse_run_record("not json"), Error);
  EXPECT_THROW(parse_run_record(R"({"task":"t"})"), Error);
  EXPECT_THROW(parse_run_record(R"({"task":"t","model":"m","public":{"passed":"yes"},"heldout":{}})"), Error);
}

TEST(BenchSummary, PerModelFiguresAndPassMatrix) {
  std::vector<RunRecord> runs{run("big", "01-x", 1, true, true, 10, 40.0), run("big", "01-x", 2, true, false, 30, 60.0),
                              run("big", "02-y", 1, false, false, 50, 50.0), run("small", "01-x", 1, true, true, 5)};
  auto models = summarize_models(runs);
  ASSERT_EQ(models.size(), 2u);
  EXPECT_EQ(models[0].model, "big");
  EXPECT_EQ(models[0].runs, 3);
  EXPECT_EQ(models[0].heldout_passes, 1);
  EXPECT_EQ(models[0].public_passes, 2);
  EXPECT_DOUBLE_EQ(models[0].avg_wall_s, 30);
  EXPECT_DOUBLE_EQ(models[0].median_wall_s, 30);
  EXPECT_DOUBLE_EQ(models[0].median_decode_tps.value_or(0), 50);
  EXPECT_DOUBLE_EQ(models[0].avg_prefill_tps.value_or(0), 2000);
  EXPECT_EQ(models[0].cache_hits, 9);
  EXPECT_EQ(models[0].tokens_reused, 27000);
  EXPECT_FALSE(models[1].median_decode_tps.has_value());
  EXPECT_EQ(models[1].runs_with_metrics, 0);

  auto matrix = pass_matrix(runs, models);
  ASSERT_EQ(matrix.size(), 2u);
  EXPECT_EQ(matrix[0].task, "01-x");
  EXPECT_EQ(matrix[0].cells[0].runs, 2);
  EXPECT_EQ(matrix[0].cells[0].heldout_passes, 1);
  EXPECT_EQ(matrix[0].cells[1].heldout_passes, 1);
  EXPECT_EQ(matrix[1].cells[1].runs, 0);
}

TEST(BenchReport, MarkdownHasModelTablePassMatrixAndRuns) {
  std::vector<RunRecord> runs{run("big", "01-x", 1, true, true, 10, 40.0), run("big", "02-y", 1, true, false, 20, 60.0),
                              run("sm|all", "01-x", 1, false, false, 5)};
  const std::string md = markdown_report(runs, ReportOptions{"T", "chart.svg"});
  EXPECT_NE(md.find("# T\n"), std::string::npos);
  EXPECT_NE(md.find("| big | 2 | 1/2 | 2/2 | 0 | 15.0 | 15.0 | 4.0 | 3.0 | 2000.0 | 50.0 | 6 / 2 | 2000 / 18000 | 3.00 | — |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| sm\\|all | 1 | 0/1 | 0/1 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 01-x | bug fix | 1/1 (1) | 0/1 (0) |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 02-y | feature | 0/1 (1) | — |"), std::string::npos) << md;
  EXPECT_NE(md.find("| big | 02-y | 1 | pass (3/3) | fail (7/9) | 20.0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("](chart.svg)"), std::string::npos);
}

TEST(BenchReport, SvgHasABarPerValueAndEscapesNames) {
  std::vector<RunRecord> runs{run("a<b>", "01-x", 1, true, true, 10, 40.0), run("c", "01-x", 1, true, true, 20)};
  const std::string svg = svg_chart(runs);
  EXPECT_EQ(svg.rfind("<svg ", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_NE(svg.find("a&lt;b&gt;"), std::string::npos);
  EXPECT_EQ(svg.find("a<b>"), std::string::npos);
  size_t bars = 0;
  for (size_t p = svg.find("<rect x="); p != std::string::npos; p = svg.find("<rect x=", p + 1)) ++bars;
  EXPECT_EQ(bars, 3u);  // two wall-time bars, one decode bar ("c" has no metrics)
  EXPECT_NE(svg.find("no data"), std::string::npos);
}

TEST(BenchReport, ReadResultsNamesTheBadLine) {
  fs::path p = fs::temp_directory_path() / "hearth-bench-results-bad.jsonl";
  std::ofstream(p) << to_json_line(run("m", "01-x", 1, true, true, 1)) << "\n\n{broken\n";
  try {
    read_results(p);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(":3:"), std::string::npos) << e.what();
  }
  std::ofstream(p) << "\n";
  EXPECT_THROW(read_results(p), Error);
  EXPECT_THROW(read_results("/nonexistent/results.jsonl"), Error);
}

}  // namespace
}  // namespace hearth::bench
