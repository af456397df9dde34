// The sampler: greedy, the allowed-set constraint, penalties, and that temperature / top-k / top-p /
// min-p sample from the distribution they should (checked by frequencies over many seeded draws).
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "engine/sampling.h"

namespace hearth::engine {
namespace {

std::map<Token, int> histogram(const std::vector<float>& logits, const SamplingParams& p, int draws,
                               std::vector<Token> allowed = {}) {
  Rng rng(p.seed);
  std::map<Token, int> counts;
  for (int i = 0; i < draws; ++i) ++counts[sample_token(logits, p, {}, allowed, rng)];
  return counts;
}

TEST(Rng, SameSeedSameStreamAndFloatsInUnitInterval) {
  Rng a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    uint64_t x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    EXPECT_NE(x, c.next_u64());
  }
  for (int i = 0; i < 10000; ++i) {
    float f = a.next_float();
    EXPECT_GE(f, 0.0f);
    EXPECT_LT(f, 1.0f);
  }
}

TEST(Sampler, GreedyPicksTheMaximumLowestIdOnTies) {
  SamplingParams p;
  p.temperature = 0;
  Rng rng(1);
  EXPECT_EQ(sample_token(std::vector<float>{1, 5, 3}, p, {}, {}, rng), 1);
  EXPECT_EQ(sample_token(std::vector<float>{2, 7, 7}, p, {}, {}, rng), 1);
}

TEST(Sampler, AllowedSetIsRespectedEvenAgainstTheFavourite) {
  SamplingParams p;
  p.temperature = 1.0f;
  std::vector<float> logits = {10, 0, 0, 0};
  auto counts = histogram(logits, p, 2000, {2, 3});
  EXPECT_EQ(counts.count(0), 0u);
  EXPECT_EQ(counts.count(1), 0u);
  EXPECT_NEAR(counts[2] / 2000.0, 0.5, 0.05);
  p.temperature = 0;
  Rng rng(1);
  EXPECT_EQ(sample_token(logits, p, {}, std::vector<Token>{3, 2}, rng), 2);
}

TEST(Sampler, NanAndMinusInfinityNeverWin) {
  SamplingParams p;
  p.temperature = 1.0f;
  float inf = std::numeric_limits<float>::infinity();
  std::vector<float> logits = {std::nanf(""), -inf, 0.0f};
  auto counts = histogram(logits, p, 500);
  EXPECT_EQ(counts[2], 500);
}

TEST(Sampler, TemperatureOneMatchesSoftmax) {
  SamplingParams p;
  p.seed = 7;
  std::vector<float> logits = {0.0f, std::log(3.0f)};  // probabilities 1/4, 3/4
  auto counts = histogram(logits, p, 20000);
  EXPECT_NEAR(counts[1] / 20000.0, 0.75, 0.015);
}

TEST(Sampler, LowTemperatureSharpens) {
  SamplingParams p;
  p.temperature = 0.25f;  // odds 3:1 become 81:1
  std::vector<float> logits = {0.0f, std::log(3.0f)};
  auto counts = histogram(logits, p, 20000);
  EXPECT_NEAR(counts[1] / 20000.0, 81.0 / 82.0, 0.01);
}

TEST(Sampler, TopKKeepsOnlyTheKBest) {
  SamplingParams p;
  p.top_k = 2;
  std::vector<float> logits = {1.0f, 1.1f, 1.2f, 0.9f};
  auto counts = histogram(logits, p, 3000);
  EXPECT_EQ(counts.count(0) + counts.count(3), 0u);
  EXPECT_GT(counts[1], 1000);
  EXPECT_GT(counts[2], 1000);
}

TEST(Sampler, TopPKeepsTheSmallestHeadReachingP) {
  SamplingParams p;
  p.top_p = 0.7f;
  // probabilities 0.5, 0.3, 0.2: the head {0,1} reaches 0.8 >= 0.7
  std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.2f)};
  auto counts = histogram(logits, p, 20000);
  EXPECT_EQ(counts.count(2), 0u);
  EXPECT_NEAR(counts[0] / 20000.0, 0.625, 0.015);
}

TEST(Sampler, TopPOverALargeVocabulary) {
  SamplingParams p;
  p.top_p = 0.9f;
  std::vector<float> logits(150000, 0.0f);  // flat: 90% of the mass is 135000 tokens
  auto counts = histogram(logits, p, 200);
  for (auto& [id, n] : counts) EXPECT_LT(id, 135001);
}

TEST(Sampler, MinPDropsTokensFarBelowTheBest) {
  SamplingParams p;
  p.min_p = 0.2f;
  std::vector<float> logits = {std::log(0.6f), std::log(0.3f), std::log(0.1f)};  // 0.1 < 0.2 * 0.6
  auto counts = histogram(logits, p, 5000);
  EXPECT_EQ(counts.count(2), 0u);
}

TEST(Sampler, RepetitionAndPresencePenaltiesDemoteSeenTokens) {
  SamplingParams p;
  p.temperature = 0;
  Rng rng(1);
  std::vector<float> logits = {2.0f, 1.5f};
  std::vector<Token> history = {0};
  p.repetition_penalty = 1.5f;  // 2.0 / 1.5 = 1.33 < 1.5
  EXPECT_EQ(sample_token(logits, p, history, {}, rng), 1);
  p.repetition_penalty = 1.0f;
  p.presence_penalty = 1.0f;  // 2.0 - 1.0 = 1.0 < 1.5
  EXPECT_EQ(sample_token(logits, p, history, {}, rng), 1);
  p.presence_penalty = 0.0f;
  EXPECT_EQ(sample_token(logits, p, history, {}, rng), 0);
  // Negative logits are multiplied, i.e. pushed further down.
  p.repetition_penalty = 2.0f;
  std::vector<float> negative = {-1.0f, -1.5f};
  EXPECT_EQ(sample_token(negative, p, history, {}, rng), 1);
}

}  // namespace
}  // namespace hearth::engine
