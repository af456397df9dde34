// engine::generate's checkpoint hook, and the prompt cache driven through it the way serve/completion did before the scheduler.
#include <gtest/gtest.h>

#include "cache/prompt_cache.h"
#include "engine/generator.h"
#include "fake_model.h"

namespace hearth::cache {
namespace {

using testing::FakeModel;

std::vector<Token> prompt_of(int n, Token start = 11) {
  std::vector<Token> p;
  for (int i = 0; i < n; ++i) p.push_back(start + i % 80);
  return p;
}

engine::GenerateParams greedy(int64_t new_tokens) {
  engine::GenerateParams params;
  params.sampling.temperature = 0;
  params.max_new_tokens = new_tokens;
  params.prefill_chunk = 100;
  return params;
}

TEST(GeneratorCheckpoints, PrefillChunksEndExactlyAtCheckpointsAndTheHookSeesThatPosition) {
  FakeModel model;
  std::vector<Token> prompt = prompt_of(350);
  engine::GenerateParams params = greedy(3);
  params.checkpoint_positions = {30, 130, 131, 350};
  std::vector<int64_t> seen;
  params.on_checkpoint = [&](int64_t pos) {
    EXPECT_EQ(model.position(), pos);
    seen.push_back(pos);
  };
  engine::GenerateResult result = engine::generate(model, prompt, params);
  EXPECT_EQ(seen, (std::vector<int64_t>{30, 130, 131, 350}));
  // Chunks of at most 100 that also stop at each checkpoint, then two decode steps.
  std::vector<int64_t> prefill_ends(model.prefill_ends.begin(), model.prefill_ends.end() - 2);
  EXPECT_EQ(prefill_ends, (std::vector<int64_t>{30, 130, 131, 231, 331, 350}));
  EXPECT_EQ(result.prefilled_tokens, 350);
}

TEST(GeneratorCheckpoints, CheckpointsAtOrBeforeTheResumedPositionAreSkipped) {
  FakeModel model;
  std::vector<Token> prompt = prompt_of(200);
  model.prefill(std::span<const Token>(prompt).first(120));
  engine::GenerateParams params = greedy(1);
  params.checkpoint_positions = {50, 120, 150};
  std::vector<int64_t> seen;
  params.on_checkpoint = [&](int64_t pos) { seen.push_back(pos); };
  engine::GenerateResult result = engine::generate(model, prompt, params);
  EXPECT_EQ(seen, (std::vector<int64_t>{150}));
  EXPECT_EQ(result.prefilled_tokens, 80);
}

TEST(GeneratorCheckpoints, PromptCacheThroughGenerateGivesTheSameTokensAsAColdModel) {
  FakeModel cached_model, cold_model;
  PromptCacheConfig config;
  config.store.device_budget_bytes = 1 << 20;
  config.store.host_budget_bytes = 1 << 20;
  PromptCache cache(cached_model, config);
  std::vector<Token> conversation = prompt_of(300);
  for (int turn = 0; turn < 4; ++turn) {
    PromptLayout layout{static_cast<int64_t>(conversation.size()),
                        {{100, CheckpointKind::static_prefix},
                         {static_cast<int64_t>(conversation.size()) - 3, CheckpointKind::user_query_end}}};
    CachedRequest request = cache.begin(conversation, layout);
    engine::GenerateParams params = greedy(6);
    params.checkpoint_positions = request.checkpoint_positions();
    params.on_checkpoint = [&](int64_t pos) { request.at_checkpoint(pos); };
    engine::GenerateResult with_cache = engine::generate(cached_model, conversation, params);
    request.finish(with_cache.generated, {GenerationStop::end_of_turn, 1, false});
    EXPECT_EQ(with_cache.prefilled_tokens, static_cast<int64_t>(conversation.size()) - request.outcome().reused_tokens);
    if (turn > 0) {
      EXPECT_TRUE(request.outcome().hit());
    }

    cold_model.reset();
    engine::GenerateResult cold = engine::generate(cold_model, conversation, greedy(6));
    ASSERT_EQ(with_cache.generated, cold.generated) << "turn " << turn;

    // Next turn: the output and a new message; every other turn a side conversation uses the model.
    conversation.insert(conversation.end(), with_cache.generated.begin(), with_cache.generated.end());
    std::vector<Token> more = prompt_of(40 + turn, 500);
    conversation.insert(conversation.end(), more.begin(), more.end());
    if (turn % 2 == 1) {
      std::vector<Token> side = prompt_of(90, 900);
      CachedRequest side_request = cache.begin(side, PromptLayout{90, {}});
      engine::GenerateResult r = engine::generate(cached_model, side, greedy(2));
      side_request.finish(r.generated, {GenerationStop::end_of_turn, 0, false});
    }
  }
}

}  // namespace
}  // namespace hearth::cache
