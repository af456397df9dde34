#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "metrics/metrics_log.h"
#include "metrics/prometheus.h"
#include "metrics/request_record.h"
#include "metrics/server_metrics.h"
#include "metrics/session_stats.h"
#include "util/error.h"

namespace hearth::metrics {
namespace {

RequestRecord sample(std::string session, bool hit, int64_t prompt, int64_t cached, double decode_rate) {
  RequestRecord r;
  r.time = "2025-01-01T00:00:00.000Z";
  r.session_id = std::move(session);
  r.model = "qwen";
  r.prompt_tokens = prompt;
  r.cached_tokens = cached;
  r.prefilled_tokens = prompt - cached;
  r.cache_hit = hit;
  r.cache_source = hit ? "device" : "none";
  r.output_tokens = 10;
  r.decode_tok_s = decode_rate;
  r.ttft_ms = 100;
  return r;
}

std::filesystem::path temp_file(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("hearth-metrics-" + std::to_string(::getpid()) + "-" + name);
}

TEST(RequestRecord, JsonRoundTripKeepsEveryField) {
  RequestRecord r = sample("abc", true, 1000, 900, 42.5);
  r.checkpoint_position = 900;
  r.peak_gpu_bytes = 123456789;
  r.stop_reason = "tool_use";
  r.tool_calls = 2;
  r.http_status = 200;
  RequestRecord back = record_from_json(nlohmann::json::parse(to_json(r).dump()));
  EXPECT_EQ(to_json(back).dump(), to_json(r).dump());
  EXPECT_EQ(back.checkpoint_position, 900);
}

TEST(RequestRecord, AbsentCheckpointAndSessionAreWrittenAsNull) {
  RequestRecord r = sample("", false, 10, 0, 0);
  auto j = to_json(r);
  EXPECT_TRUE(j["checkpoint_position"].is_null());
  EXPECT_TRUE(j["session_id"].is_null());
  EXPECT_EQ(record_from_json(nlohmann::json::parse(j.dump())).checkpoint_position, -1);
}

TEST(RequestRecord, FieldOfTheWrongTypeIsAClearError) {
  EXPECT_THROW(record_from_json(nlohmann::json::parse(R"({"prompt_tokens":"many"})")), Error);
  EXPECT_THROW(record_from_json(nlohmann::json::parse("[1,2]")), Error);
}

TEST(RequestRecord, RatesComeFromTokensAndDurations) {
  RequestRecord r;
  r.prefilled_tokens = 2000;
  r.prefill_ms = 500;
  r.output_tokens = 101;  // the first comes from the prefill
  r.decode_ms = 2000;
  compute_rates(r);
  EXPECT_DOUBLE_EQ(r.prefill_tok_s, 4000);
  EXPECT_DOUBLE_EQ(r.decode_tok_s, 50);
  RequestRecord empty;
  compute_rates(empty);
  EXPECT_EQ(empty.decode_tok_s, 0);
}

TEST(MetricsLog, ConcurrentWritersProduceWholeLinesOnly) {
  auto path = temp_file("log.jsonl");
  std::filesystem::remove(path);
  {
    MetricsLog log(path);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&log, t] {
        for (int i = 0; i < 50; ++i) log.write(sample("s" + std::to_string(t), i % 2, 100 + i, i, 10));
      });
    }
    for (auto& th : threads) th.join();
  }
  std::ifstream in(path);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    ASSERT_NO_THROW(record_from_json(nlohmann::json::parse(line))) << line;
    ++lines;
  }
  EXPECT_EQ(lines, 200);
  std::filesystem::remove(path);
}

TEST(MetricsLog, AppendsToAnExistingLog) {
  auto path = temp_file("append.jsonl");
  std::filesystem::remove(path);
  { MetricsLog(path).write(sample("a", false, 1, 0, 0)); }
  { MetricsLog(path).write(sample("b", false, 1, 0, 0)); }
  std::ifstream in(path);
  EXPECT_EQ(summarize_log(in).sessions.size(), 2u);
  std::filesystem::remove(path);
}

TEST(MetricsLog, UnwritablePathIsAnIoError) {
  try {
    MetricsLog log("/nonexistent-dir/x/metrics.jsonl");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::io);
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x/metrics.jsonl"), std::string::npos);
  }
}

TEST(Prometheus, RendersCountersGaugesAndCumulativeHistogramsInTextFormat) {
  Registry r;
  r.add_counter("x_requests_total", "Requests.");
  r.add_gauge("x_depth", "Depth.");
  r.add_histogram("x_latency_seconds", "Latency.", {0.05, 1});
  r.increment("x_requests_total", {{"status", "200"}});
  r.increment("x_requests_total", {{"status", "200"}});
  r.increment("x_requests_total", {{"status", "429"}});
  r.set("x_depth", {}, 3);
  r.observe("x_latency_seconds", {}, 0.01);
  r.observe("x_latency_seconds", {}, 0.5);
  r.observe("x_latency_seconds", {}, 7);
  const std::string expected =
      "# HELP x_requests_total Requests.\n"
      "# TYPE x_requests_total counter\n"
      "x_requests_total{status=\"200\"} 2\n"
      "x_requests_total{status=\"429\"} 1\n"
      "# HELP x_depth Depth.\n"
      "# TYPE x_depth gauge\n"
      "x_depth 3\n"
      "# HELP x_latency_seconds Latency.\n"
      "# TYPE x_latency_seconds histogram\n"
      "x_latency_seconds_bucket{le=\"0.05\"} 1\n"
      "x_latency_seconds_bucket{le=\"1\"} 2\n"
      "x_latency_seconds_bucket{le=\"+Inf\"} 3\n"
      "x_latency_seconds_sum 7.51\n"
      "x_latency_seconds_count 3\n";
  EXPECT_EQ(r.render(), expected);
}

TEST(Prometheus, LabelValuesAreEscaped) {
  EXPECT_EQ(format_labels({{"model", "a\"b\\c\nd"}}), "{model=\"a\\\"b\\\\c\\nd\"}");
}

TEST(Prometheus, MisuseIsAnInternalError) {
  Registry r;
  r.add_counter("c_total", "c");
  EXPECT_THROW(r.add_counter("c_total", "again"), Error);
  EXPECT_THROW(r.add_gauge("bad name", "x"), Error);
  EXPECT_THROW(r.increment("c_total", {}, -1), Error);
  EXPECT_THROW(r.set("c_total", {}, 1), Error);  // not a gauge
  EXPECT_THROW(r.increment("missing_total"), Error);
  EXPECT_THROW(r.add_histogram("h", "h", {1, 1}), Error);
}

TEST(ServerMetrics, RequestRecordsFeedTokenCountersAndTheHitRatio) {
  ServerMetrics m;
  m.record(sample("s", false, 1000, 0, 10));
  m.record(sample("s", true, 1100, 1000, 10));
  RequestRecord failed = sample("s", false, 50, 0, 0);
  failed.http_status = 400;
  m.record(failed);
  m.set_queue_depth(2, 1);
  Registry& r = m.registry();
  EXPECT_EQ(r.value("hearth_requests_total", {{"endpoint", "messages"}, {"status", "200"}}), 2);
  EXPECT_EQ(r.value("hearth_requests_total", {{"endpoint", "messages"}, {"status", "400"}}), 1);
  EXPECT_EQ(r.value("hearth_prompt_tokens_total"), 2100);
  EXPECT_EQ(r.value("hearth_prefilled_tokens_total"), 1100);
  EXPECT_EQ(r.value("hearth_cache_lookups_total", {{"result", "hit"}}), 1);
  EXPECT_DOUBLE_EQ(r.value("hearth_cache_hit_ratio"), 1000.0 / 2100.0);
  EXPECT_EQ(r.value("hearth_queue_depth"), 2);
  std::string text = m.render();
  EXPECT_NE(text.find("hearth_time_to_first_token_seconds_count 2\n"), std::string::npos) << text;
}

TEST(ServerMetrics, ModelInfoCarriesTheArtifactIdentityAsLabels) {
  ServerMetrics m;
  m.set_model({"Qwen3.6-35B-A3B-4bit", "mlx-community/Qwen3.6-35B-A3B-4bit", "main", "0123abcd", "/hub/snapshots/0123abcd",
               "qwen3_5_moe 5e1f"});
  const std::string text = m.render();
  EXPECT_NE(text.find("# TYPE hearth_model_info gauge\n"), std::string::npos) << text;
  EXPECT_NE(text.find("hearth_model_info{name=\"Qwen3.6-35B-A3B-4bit\",repository=\"mlx-community/Qwen3.6-35B-A3B-4bit\","
                      "revision=\"main\",commit=\"0123abcd\",path=\"/hub/snapshots/0123abcd\",identity=\"qwen3_5_moe 5e1f\"} 1\n"),
            std::string::npos)
      << text;
}

TEST(ServerMetrics, CacheStateShowsEveryBudgetedCacheAndResidentMemory) {
  ServerMetrics m;
  CacheState state;
  state.host_bytes = 3000;
  state.host_page_bytes = 1000;
  state.tokenizer_cache_bytes = 4096;
  m.set_cache_state(state);
  const std::string text = m.render();
  EXPECT_NE(text.find("hearth_cache_bytes{tier=\"host\"} 3000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("hearth_cache_page_bytes 1000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("hearth_tokenizer_cache_bytes 4096\n"), std::string::npos) << text;
  const size_t at = text.find("\nhearth_process_resident_bytes ");
  ASSERT_NE(at, std::string::npos) << text;
  EXPECT_GT(std::stod(text.substr(at + 31)), 1e6);  // this test process: megabytes at least
}

TEST(SessionStats, SummarisesEachSessionAndSkipsMalformedLines) {
  std::stringstream log;
  log << to_json(sample("A", false, 1000, 0, 20)).dump() << "\n";
  log << to_json(sample("B", false, 500, 0, 5)).dump() << "\n";
  log << "this is not json\n\n";
  log << to_json(sample("A", true, 1200, 1000, 30)).dump() << "\n";
  log << to_json(sample("A", true, 1500, 1200, 40)).dump() << "\n";
  RequestRecord failed = sample("A", false, 0, 0, 0);
  failed.http_status = 500;
  log << to_json(failed).dump() << "\n";
  LogSummary s = summarize_log(log);
  ASSERT_EQ(s.sessions.size(), 2u);
  const SessionSummary& a = s.sessions[0];
  EXPECT_EQ(a.session_id, "A");
  EXPECT_EQ(a.turns, 3);
  EXPECT_EQ(a.errors, 1);
  EXPECT_EQ(a.hits, 2);
  EXPECT_EQ(a.misses, 1);
  EXPECT_EQ(a.prompt_tokens, 3700);
  EXPECT_EQ(a.reused_tokens, 2200);
  EXPECT_EQ(a.prefilled_tokens, 1500);
  EXPECT_DOUBLE_EQ(a.median_decode_tok_s, 30);
  EXPECT_EQ(s.sessions[1].turns, 1);
  EXPECT_EQ(s.total.turns, 4);
  EXPECT_EQ(s.malformed_lines, 1);
  EXPECT_EQ(s.first_malformed_line, 3);
  std::string table = format_summary(s);
  EXPECT_NE(table.find("skipped 1 malformed line(s), the first at line 3"), std::string::npos) << table;
  EXPECT_NE(table.find("(all)"), std::string::npos);
}

TEST(SessionStats, MedianOfEvenAndOddCounts) {
  EXPECT_EQ(median({}), 0);
  EXPECT_EQ(median({3, 1, 2}), 2);
  EXPECT_EQ(median({4, 1, 3, 2}), 2.5);
}

}  // namespace
}  // namespace hearth::metrics
