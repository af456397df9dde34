#include "bench/session_metrics.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace hearth::bench {
namespace {
namespace fs = std::filesystem;

fs::path write_log(const std::string& name, const std::string& text) {
  fs::path p = fs::temp_directory_path() / ("hearth-bench-metrics-" + name + ".jsonl");
  std::ofstream(p) << text;
  return p;
}

// Lines in the shape of hearth::metrics::RequestRecord, for two sessions plus noise.
const char* kLog =
    R"({"session_id":"A","endpoint":"messages","http_status":200,"cache_hit":false,"cached_tokens":0,"prefilled_tokens":12000,"prefill_tok_s":3000,"decode_tok_s":50,"peak_gpu_bytes":1000,"peak_host_bytes":10}
{"session_id":"B","endpoint":"messages","http_status":200,"cache_hit":false,"prefilled_tokens":999,"decode_tok_s":1}
{"session_id":"A","endpoint":"count_tokens","http_status":200,"prefilled_tokens":5}
garbage line
{"session_id":"A","endpoint":"messages","http_status":529,"error_type":"overloaded_error"}
{"session_id":"A","endpoint":"messages","http_status":200,"cache_hit":true,"cached_tokens":11900,"prefilled_tokens":300,"prefill_tok_s":1000,"decode_tok_s":70,"peak_gpu_bytes":3000,"peak_host_bytes":5}
{"session_id":"A","endpoint":"messages","http_status":200,"cache_hit":true,"cached_tokens":12100,"prefilled_tokens":200,"prefill_tok_s":2000,"decode_tok_s":60,"peak_gpu_bytes":2000}
)";

TEST(BenchSessionMetrics, AggregatesOnlyTheSessionsSuccessfulMessagesRequests) {
  auto m = read_session_metrics(write_log("agg", kLog), "A");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->requests, 3);
  EXPECT_EQ(m->cache_hits, 2);
  EXPECT_EQ(m->cache_misses, 1);
  EXPECT_EQ(m->tokens_prefilled, 12500);
  EXPECT_EQ(m->tokens_reused, 24000);
  ASSERT_TRUE(m->avg_prefill_tps.has_value());
  EXPECT_DOUBLE_EQ(*m->avg_prefill_tps, 2000);
  ASSERT_TRUE(m->median_decode_tps.has_value());
  EXPECT_DOUBLE_EQ(*m->median_decode_tps, 60);
  EXPECT_EQ(m->peak_gpu_bytes.value_or(0), 3000);
  EXPECT_EQ(m->peak_host_bytes.value_or(0), 10);
}

TEST(BenchSessionMetrics, EvenNumberOfDecodeRatesTakesTheMiddleMean) {
  auto m = read_session_metrics(write_log("even", R"({"session_id":"S","decode_tok_s":10}
{"session_id":"S","decode_tok_s":30}
)"),
                                "S");
  ASSERT_TRUE(m && m->median_decode_tps);
  EXPECT_DOUBLE_EQ(*m->median_decode_tps, 20);
  EXPECT_FALSE(m->avg_prefill_tps.has_value());
  EXPECT_FALSE(m->peak_gpu_bytes.has_value());
}

TEST(BenchSessionMetrics, UnknownSessionMissingLogOrEmptyIdGiveNothing) {
  fs::path log = write_log("none", kLog);
  EXPECT_FALSE(read_session_metrics(log, "C").has_value());
  EXPECT_FALSE(read_session_metrics(log, "").has_value());
  EXPECT_FALSE(read_session_metrics("/nonexistent/metrics.jsonl", "A").has_value());
}

}  // namespace
}  // namespace hearth::bench
