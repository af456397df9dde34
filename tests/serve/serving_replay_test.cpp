// bench-serve's replay (serve/serving_replay.h) on the CPU engine with a tiny test model: every session
// runs all its turns, later turns reuse the conversation through the prompt cache, and a session's
// greedy tokens are the same whether it runs alone or beside others.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "engine/loader.h"
#include "serve/serving_replay.h"
#include "util/error.h"

namespace hearth::serve {
namespace {

std::unique_ptr<engine::Model> tiny_model(int32_t slots) {
  engine::LoadOptions o;
  o.model_dir = std::filesystem::path(HEARTH_TESTDATA_DIR) / "tiny" / "moe-hf-bf16-sharded";
  o.device = engine::Device::cpu;
  o.max_context = 512;
  o.slots = slots;
  o.threads = 2;
  return engine::load_model(o);
}

ServingReplayOptions small_options(int sessions) {
  ServingReplayOptions o;
  o.sessions = sessions;
  o.turns = 3;
  o.shared_tokens = 40;
  o.new_tokens = 24;
  o.output_tokens = 6;
  o.step_tokens = 16;  // prompts run in several chunks, interleaved with the other sessions' decode steps
  return o;
}

// Each session's generated tokens, turn by turn.
std::map<int, std::vector<std::vector<engine::Token>>> by_session(const ServingReport& report) {
  std::map<int, std::vector<std::vector<engine::Token>>> out;
  for (const ServedTurn& t : report.turns) {
    auto& turns = out[t.session];
    if (turns.size() <= size_t(t.turn)) turns.resize(size_t(t.turn) + 1);
    turns[size_t(t.turn)] = t.generated;
  }
  return out;
}

TEST(ServingReplay, SessionsRunTheirTurnsAndReuseTheirConversations) {
  auto model = tiny_model(3);
  cache::PromptCache cache(*model, {});
  const ServingReplayOptions options = small_options(3);
  const ServingReport report = replay_concurrent_sessions(*model, cache, options);
  ASSERT_EQ(report.turns.size(), 9u);
  EXPECT_EQ(report.generated_tokens, 9 * options.output_tokens);
  ASSERT_EQ(report.session_decode_tokens_per_second.size(), 3u);
  for (double rate : report.session_decode_tokens_per_second) EXPECT_GT(rate, 0);
  for (const ServedTurn& t : report.turns) {
    EXPECT_EQ(t.generated_tokens, options.output_tokens);
    EXPECT_GT(t.ttft_seconds, 0);
    const int64_t expected_prompt = options.shared_tokens + (t.turn + 1) * options.new_tokens + t.turn * options.output_tokens;
    EXPECT_EQ(t.prompt_tokens, expected_prompt);
    // A later turn resumes its own conversation: everything but the new message (and the last sampled
    // token, which was never run) comes from the cache.
    if (t.turn > 0) EXPECT_GE(t.reused_tokens, t.prompt_tokens - options.new_tokens - 1) << "session " << t.session;
  }
  EXPECT_GT(report.ttft_p99_seconds, 0);
  EXPECT_GE(report.ttft_p99_seconds, report.ttft_p50_seconds);
}

TEST(ServingReplay, ASessionGeneratesTheSameTokensAloneAndBesideOthers) {
  auto model = tiny_model(3);
  std::map<int, std::vector<std::vector<engine::Token>>> alone, together;
  {
    cache::PromptCache cache(*model, {});
    alone = by_session(replay_concurrent_sessions(*model, cache, small_options(1)));
  }
  {
    cache::PromptCache cache(*model, {});
    together = by_session(replay_concurrent_sessions(*model, cache, small_options(3)));
  }
  ASSERT_EQ(together.size(), 3u);
  EXPECT_EQ(alone.at(0), together.at(0));
  EXPECT_NE(together.at(0), together.at(1));  // the sessions' conversations differ after the shared prefix
}

TEST(ServingReplay, MoreSessionsThanSlotsIsRefused) {
  auto model = tiny_model(2);
  cache::PromptCache cache(*model, {});
  try {
    replay_concurrent_sessions(*model, cache, small_options(3));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_request);
    EXPECT_NE(std::string(e.what()).find("3 sessions need as many slots"), std::string::npos) << e.what();
  }
}

TEST(ServingReplay, PercentileIsNearestRank) {
  EXPECT_EQ(percentile({}, 50), 0);
  EXPECT_EQ(percentile({3, 1, 2}, 50), 2);
  EXPECT_EQ(percentile({1, 2, 3, 4}, 50), 2);
  EXPECT_EQ(percentile({1, 2, 3, 4}, 99), 4);
  EXPECT_EQ(percentile({5}, 0), 5);
}

}  // namespace
}  // namespace hearth::serve
