// The demo model's reply end: a model that would never end its turn (random weights) ends each reply
// after the configured number of tokens, counted from the last turn start, also across a restore.
#include <gtest/gtest.h>

#include "engine/demo_reply_end.h"
#include "engine/generator.h"

namespace hearth::engine {
namespace {

constexpr Token kTurnStart = 1, kTurnEnd = 2, kFavourite = 3;

// Always prefers kFavourite: left alone it never ends a turn.
class NeverEndingModel : public Model {
 public:
  NeverEndingModel() {
    info_.architecture = "never-ending";
    info_.vocab_size = 8;
    info_.max_context = 1000;
    logits_.assign(8, 0.0f);
    logits_[kFavourite] = 5.0f;
  }
  const ModelInfo& info() const override { return info_; }
  // One slot.
  void reset_slot(SlotId) override { position_ = 0; }
  void forward(std::span<const SlotTokens> batch) override {
    for (const SlotTokens& e : batch) position_ += int64_t(e.tokens.size());
  }
  std::span<const float> slot_logits(SlotId) const override { return logits_; }
  int64_t slot_position(SlotId) const override { return position_; }
  struct Snapshot : StateSnapshot {
    int64_t at = 0;
    int64_t position() const override { return at; }
    size_t device_bytes() const override { return 0; }
    size_t host_bytes() const override { return sizeof(at); }
  };
  std::unique_ptr<StateSnapshot> save_slot(SlotId) const override {
    auto s = std::make_unique<Snapshot>();
    s->at = position_;
    return s;
  }
  void restore_slot(SlotId, const StateSnapshot& s) override { position_ = s.position(); }

 private:
  ModelInfo info_;
  std::vector<float> logits_;
  int64_t position_ = 0;
};

GenerateParams greedy_until_turn_end() {
  GenerateParams p;
  p.sampling.temperature = 0;
  p.max_new_tokens = 100;
  p.stop_tokens = {kTurnEnd};
  return p;
}

std::unique_ptr<Model> demo(int64_t reply_tokens) {
  return end_demo_replies(std::make_unique<NeverEndingModel>(), {kTurnStart, kTurnEnd, reply_tokens});
}

TEST(DemoReplyEnd, ReplyEndsWithTheTurnEndAfterReplyTokensCountedFromTheTurnStart) {
  auto model = demo(10);
  const std::vector<Token> prompt = {0, kTurnStart, 4, 4};  // turn start, then a 2-token role line
  GenerateResult r = generate(*model, prompt, greedy_until_turn_end());
  EXPECT_EQ(r.finish, FinishReason::stop_token);
  EXPECT_EQ(r.generated.size(), 10u - 2u);  // the role line counts towards the reply
  for (Token t : r.generated) EXPECT_EQ(t, kFavourite);
}

TEST(DemoReplyEnd, WithoutATurnStartNothingIsForced) {
  auto model = demo(3);
  GenerateParams p = greedy_until_turn_end();
  p.max_new_tokens = 20;
  GenerateResult r = generate(*model, std::vector<Token>{0, 4, 5}, p);
  EXPECT_EQ(r.finish, FinishReason::max_tokens);
  EXPECT_EQ(r.generated.size(), 20u);
}

TEST(DemoReplyEnd, ARestoredSnapshotKeepsItsReplyStart) {
  auto model = demo(6);
  model->prefill(std::vector<Token>{0, 4});
  auto before_turn = model->save_state();
  model->prefill(std::vector<Token>{kTurnStart});
  auto in_turn = model->save_state();
  const size_t first = generate(*model, std::vector<Token>{0, 4, kTurnStart, 4}, greedy_until_turn_end()).generated.size();
  EXPECT_EQ(first, 5u);
  // Back to the start of the reply: the same length again.
  model->restore_state(*in_turn);
  EXPECT_EQ(generate(*model, std::vector<Token>{0, 4, kTurnStart, 4}, greedy_until_turn_end()).generated.size(), first);
  // Back before the turn started: the earlier turn start no longer counts.
  model->restore_state(*before_turn);
  GenerateParams p = greedy_until_turn_end();
  p.max_new_tokens = 15;
  EXPECT_EQ(generate(*model, std::vector<Token>{0, 4, 4}, p).finish, FinishReason::max_tokens);
}

TEST(DemoReplyEnd, TurnTokensOutsideTheVocabularyAreRefused) {
  EXPECT_THROW(end_demo_replies(std::make_unique<NeverEndingModel>(), {kTurnStart, 99, 5}), hearth::Error);
  EXPECT_THROW(end_demo_replies(std::make_unique<NeverEndingModel>(), {-1, kTurnEnd, 5}), hearth::Error);
}

}  // namespace
}  // namespace hearth::engine
