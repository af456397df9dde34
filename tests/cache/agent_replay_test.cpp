// The prompt cache on the real CPU engine (a tiny Qwen3.5 model with random weights): exact reuse of a
// hybrid model's state through checkpoints, checked by replaying a synthetic agent session.
#include "cache/agent_replay.h"

#include <gtest/gtest.h>

#include "engine/loader.h"

namespace hearth::cache {
namespace {

std::unique_ptr<engine::Model> tiny_model() {
  engine::LoadOptions load;
  load.model_dir = std::string(HEARTH_TESTDATA_DIR) + "/tiny/dense-hf-bf16";
  load.format = engine::LoadFormat::dummy;
  load.max_context = 2048;
  load.threads = 2;
  return engine::load_model(load);
}

ReplayOptions small_session() {
  ReplayOptions o;
  o.turns = 5;
  o.static_tokens = 150;
  o.new_tokens = 70;
  o.output_tokens = 6;
  o.prefill_chunk = 64;  // chunks that do not line up with the checkpoints
  return o;
}

PromptCacheConfig budgets(size_t device, size_t host) {
  PromptCacheConfig c;
  c.store.device_budget_bytes = device;
  c.store.host_budget_bytes = host;
  return c;
}

TEST(AgentReplayOnTinyEngine, EveryTurnAfterTheFirstPrefillsOnlyItsNewTokens) {
  auto model = tiny_model();
  PromptCache cache(*model, budgets(0, size_t(1) << 30));
  ReplayReport report = replay_agent_session(*model, cache, small_session());
  ASSERT_EQ(report.turns.size(), 5u);
  EXPECT_EQ(report.turns[0].prefilled_tokens, 150 + 70);
  for (size_t t = 1; t < report.turns.size(); ++t) {
    SCOPED_TRACE("turn " + std::to_string(t + 1));
    EXPECT_EQ(report.turns[t].prefilled_tokens, 70);
    EXPECT_EQ(report.turns[t].reused_tokens, report.turns[t - 1].prompt_tokens + 6);
    EXPECT_EQ(report.turns[t].source, ResumeSource::host);  // side requests ran in between
  }
}

TEST(AgentReplayOnTinyEngine, GreedyOutputIsIdenticalWithTheCacheOnAndOff) {
  auto cached_model = tiny_model();
  auto cold_model = tiny_model();
  PromptCache on(*cached_model, budgets(0, size_t(1) << 30));
  PromptCacheConfig off_config = budgets(0, size_t(1) << 30);
  off_config.enabled = false;
  PromptCache off(*cold_model, off_config);
  ReplayReport with_cache = replay_agent_session(*cached_model, on, small_session());
  ReplayReport without = replay_agent_session(*cold_model, off, small_session());
  for (size_t t = 0; t < with_cache.turns.size(); ++t) {
    EXPECT_EQ(with_cache.turns[t].generated, without.turns[t].generated) << "turn " << t + 1;
    EXPECT_EQ(without.turns[t].reused_tokens, 0);
  }
  EXPECT_LT(with_cache.total_prefilled_tokens * 2, without.total_prefilled_tokens);
}

TEST(AgentReplayOnTinyEngine, TinyHostBudgetKeepsOutputsExactAndIsNeverExceeded) {
  auto probe = tiny_model();
  std::vector<engine::Token> some(400, 7);
  probe->prefill(some);
  auto snapshot = probe->save_state();
  probe->reset();  // the snapshot alone holds the 400 tokens' KV pages now
  // A checkpoint's host cost on the CPU: its state copy plus the KV pages only it keeps.
  const size_t snapshot_bytes = snapshot->host_bytes() + probe->snapshot_host_page_bytes();
  // Room for about two checkpoints of a 400-token state.
  const size_t budget = 2 * snapshot_bytes;
  auto tight_model = tiny_model();
  auto cold_model = tiny_model();
  PromptCache tight(*tight_model, budgets(0, budget));
  PromptCacheConfig off_config = budgets(0, budget);
  off_config.enabled = false;
  PromptCache off(*cold_model, off_config);
  size_t peak = 0;
  ReplayReport tight_report = replay_agent_session(*tight_model, tight, small_session(), [&](int, const ReplayTurn&) {
    peak = std::max(peak, tight.stats().host_bytes);
  });
  ReplayReport reference = replay_agent_session(*cold_model, off, small_session());
  for (size_t t = 0; t < tight_report.turns.size(); ++t) {
    EXPECT_EQ(tight_report.turns[t].generated, reference.turns[t].generated) << "turn " << t + 1;
  }
  EXPECT_LE(peak, budget);
  EXPECT_GT(tight_report.cache.evicted, 0u);
  EXPECT_GT(tight_report.total_reused_tokens, 0);  // still some reuse under the tiny budget
}

}  // namespace
}  // namespace hearth::cache
