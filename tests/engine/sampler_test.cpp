// The sampler: greedy, the allowed-set constraint, penalties, and that temperature / top-k / top-p /
// min-p sample from the distribution they should (checked by frequencies over many seeded draws).
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "engine/sampling.h"
#include "util/error.h"

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

// The one-pass top-k selection over the whole vocabulary (the server's default setting) draws exactly
// what the general path draws (the same candidates through an allowed list of every id), also with
// ties, NaNs and a vocabulary limit.
TEST(Sampler, TopKSelectionDrawsWhatTheGeneralPathDraws) {
  std::vector<float> logits(5000);
  Rng fill(7);
  for (float& x : logits) x = float(int(fill.next_float() * 400)) / 40.0f;  // many exact ties
  logits[17] = std::nanf("");
  logits[4990] = 100.0f;  // the maximum, past the limit below
  std::vector<Token> every_id(logits.size());
  for (size_t i = 0; i < every_id.size(); ++i) every_id[i] = Token(i);
  for (int32_t k : {1, 5, 20, 64}) {
    SamplingParams p;
    p.temperature = 0.7f;
    p.top_k = k;
    p.top_p = 0.9f;
    p.vocab_limit = 4900;
    for (uint64_t seed = 0; seed < 200; ++seed) {
      Rng a(seed), b(seed);
      const Token fast = sample_token(logits, p, {}, {}, a);
      const Token general = sample_token(logits, p, {}, every_id, b);
      ASSERT_EQ(fast, general) << "k=" << k << " seed=" << seed;
      ASSERT_LT(fast, 4900);
    }
  }
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


// A padded embedding: ids 3.. exist in the logits but not in the tokenizer, and carry the largest logits,
// so any path that looked at them would pick one.
constexpr int64_t kRealVocab = 3;
std::vector<float> logits_favouring_padding() { return {1.0f, 2.0f, 1.5f, 9.0f, 8.0f}; }

TEST(SamplerVocabLimit, GreedyNeverPicksAPaddedIdEvenWhenItHoldsTheMaximum) {
  SamplingParams p;
  p.temperature = 0;
  Rng rng(1);
  EXPECT_EQ(sample_token(logits_favouring_padding(), p, {}, {}, rng), 3);  // without the limit: the padding
  p.vocab_limit = kRealVocab;
  EXPECT_EQ(sample_token(logits_favouring_padding(), p, {}, {}, rng), 1);
}

TEST(SamplerVocabLimit, TemperatureTopKTopPAndMinPSampleOnlyRealIds) {
  SamplingParams p;
  p.vocab_limit = kRealVocab;
  p.seed = 3;
  auto plain = histogram(logits_favouring_padding(), p, 3000);
  EXPECT_EQ(plain.count(3) + plain.count(4), 0u);
  EXPECT_EQ(plain[0] + plain[1] + plain[2], 3000);
  // top-k = 2 keeps the two best real ids (1 and 2), not the two padded ones.
  p.top_k = 2;
  auto top_k = histogram(logits_favouring_padding(), p, 3000);
  EXPECT_EQ(top_k.count(0) + top_k.count(3) + top_k.count(4), 0u);
  EXPECT_GT(top_k[1], 1000);
  p.top_k = 0;
  // top-p and min-p measure mass against the best real id: id 1 alone holds over half of it.
  p.top_p = 0.4f;
  auto top_p = histogram(logits_favouring_padding(), p, 1000);
  EXPECT_EQ(top_p[1], 1000);
  p.top_p = 1.0f;
  p.min_p = 0.5f;  // exp(1.5 - 2) = 0.61 stays, exp(1 - 2) = 0.37 goes
  auto min_p = histogram(logits_favouring_padding(), p, 2000);
  EXPECT_EQ(min_p.count(0) + min_p.count(3) + min_p.count(4), 0u);
  EXPECT_GT(min_p[2], 300);
}

TEST(SamplerVocabLimit, PenaltiesCannotPushTheChoiceIntoThePadding) {
  SamplingParams p;
  p.temperature = 0;
  p.vocab_limit = kRealVocab;
  p.presence_penalty = 100.0f;  // every real id seen: all fall far below the padded logits
  Rng rng(1);
  const std::vector<Token> history = {0, 1, 2};
  EXPECT_EQ(sample_token(logits_favouring_padding(), p, history, {}, rng), 1);
  p.temperature = 1.0f;
  for (int i = 0; i < 200; ++i) EXPECT_LT(sample_token(logits_favouring_padding(), p, history, {}, rng), kRealVocab);
}

TEST(SamplerVocabLimit, AllowedListDropsPaddedIdsAndFailsClearlyWhenNothingIsLeft) {
  SamplingParams p;
  p.temperature = 0;
  p.vocab_limit = kRealVocab;
  Rng rng(1);
  EXPECT_EQ(sample_token(logits_favouring_padding(), p, {}, std::vector<Token>{4, 0, 3}, rng), 0);
  EXPECT_THROW(sample_token(logits_favouring_padding(), p, {}, std::vector<Token>{3, 4}, rng), hearth::Error);
}

TEST(SamplerVocabLimit, ZeroOrALimitPastTheLogitsChangesNothing) {
  SamplingParams p;
  p.temperature = 0;
  Rng rng(1);
  for (int64_t limit : {int64_t(0), int64_t(5), int64_t(1000)}) {
    p.vocab_limit = limit;
    EXPECT_EQ(sample_token(logits_favouring_padding(), p, {}, {}, rng), 3) << limit;
  }
}

}  // namespace
}  // namespace hearth::engine

namespace hearth::engine {
namespace {

// A model whose slot 0 holds fixed logits; counts the whole-row reads sample_next makes.
class FixedLogitsModel : public Model {
 public:
  explicit FixedLogitsModel(std::vector<float> logits) : logits_(std::move(logits)) {
    info_.architecture = "fixed";
    info_.vocab_size = int64_t(logits_.size());
  }
  const ModelInfo& info() const override { return info_; }
  void reset_slot(SlotId) override {}
  void forward(std::span<const SlotTokens>) override {}
  std::span<const float> slot_logits(SlotId) const override {
    ++row_reads;
    return logits_;
  }
  // Like a device model: the selection without handing out the row.
  std::vector<TokenLogit> slot_top_logits(SlotId, int32_t k, int64_t limit) const override {
    return top_logits(logits_, size_t(limit), size_t(k));
  }
  int64_t slot_position(SlotId) const override { return 0; }
  std::unique_ptr<StateSnapshot> save_slot(SlotId) const override { return nullptr; }
  void restore_slot(SlotId, const StateSnapshot&) override {}
  mutable int row_reads = 0;

 private:
  std::vector<float> logits_;
  ModelInfo info_;
};

// sample_next draws exactly what sample_token draws from the whole row, asking the model only for the
// best k when the settings allow it and for the whole row otherwise.
TEST(SampleNext, DrawsWhatTheWholeRowDrawsAndReadsTheRowOnlyWhenItMust) {
  std::vector<float> logits(3000);
  Rng fill(3);
  for (float& x : logits) x = float(int(fill.next_float() * 300)) / 30.0f;
  FixedLogitsModel model(logits);
  const std::vector<Token> history = {5, 17, 2999};
  struct Case {
    SamplingParams params;
    bool whole_row;
  };
  std::vector<Case> cases;
  SamplingParams greedy;
  greedy.temperature = 0;
  greedy.vocab_limit = 2990;
  cases.push_back({greedy, false});
  SamplingParams server;  // the server's defaults
  server.temperature = 0.6f, server.top_k = 20, server.top_p = 0.95f, server.vocab_limit = 2990;
  cases.push_back({server, false});
  SamplingParams wide = server;
  wide.top_k = kMaxTopLogits + 1;
  cases.push_back({wide, true});
  SamplingParams penalised = server;
  penalised.presence_penalty = 0.5f;
  cases.push_back({penalised, true});
  SamplingParams no_top_k = server;
  no_top_k.top_k = 0;
  cases.push_back({no_top_k, true});
  for (const Case& c : cases) {
    for (uint64_t seed = 0; seed < 50; ++seed) {
      Rng a(seed), b(seed);
      model.row_reads = 0;
      const Token next = sample_next(model, 0, c.params, history, {}, a);
      EXPECT_EQ(model.row_reads > 0, c.whole_row) << "top_k " << c.params.top_k;
      const Token reference = sample_token(logits, c.params, history, {}, b);
      ASSERT_EQ(next, reference) << "top_k " << c.params.top_k << " seed " << seed;
    }
  }
}

}  // namespace
}  // namespace hearth::engine
