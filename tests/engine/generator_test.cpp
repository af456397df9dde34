// The decode loop over the scripted model: stop tokens, budgets, callbacks, cancellation, constraints,
// chunked prefill and resuming from a model state that already holds part of the prompt.
#include <gtest/gtest.h>

#include <atomic>

#include "engine/generator.h"
#include "engine/scripted_model.h"

namespace hearth::engine {
namespace {

constexpr Token kEnd = 99;

std::unique_ptr<ScriptedModel> model_replying(std::vector<Token> reply, int64_t max_context = 1000,
                                              std::chrono::milliseconds delay = {}) {
  ScriptedModelOptions o;
  o.vocab_size = 100;
  o.max_context = max_context;
  o.end_token = kEnd;
  o.responder = [reply, delay](std::span<const Token>) { return ScriptedReply{reply, delay}; };
  return std::make_unique<ScriptedModel>(o);
}

GenerateParams greedy(int64_t max_new = 50) {
  GenerateParams p;
  p.sampling.temperature = 0;
  p.max_new_tokens = max_new;
  p.stop_tokens = {kEnd};
  return p;
}

TEST(Generate, FollowsTheScriptUntilTheStopToken) {
  auto m = model_replying({10, 11, 12});
  std::vector<Token> prompt = {1, 2, 3};
  GenerateResult r = generate(*m, prompt, greedy());
  EXPECT_EQ(r.generated, (std::vector<Token>{10, 11, 12}));
  EXPECT_EQ(r.finish, FinishReason::stop_token);
  EXPECT_EQ(r.prompt_tokens, 3);
  EXPECT_EQ(r.prefilled_tokens, 3);
  EXPECT_EQ(m->position(), 6);  // prompt + generated; the stop token is never run
}

// Proposes `guess` after the prompt, one token at a time as it is consumed.
class GuessDrafter : public Drafter {
 public:
  GuessDrafter(std::vector<Token> guess, size_t prompt) : guess_(std::move(guess)), prompt_(prompt) {}
  void append(std::span<const Token> tokens) override { seen_ += tokens.size(); }
  std::vector<Token> propose(int32_t limit) override {
    std::vector<Token> out;
    for (size_t i = seen_ - prompt_; i < guess_.size() && out.size() < size_t(limit); ++i) out.push_back(guess_[i]);
    return out;
  }

 private:
  std::vector<Token> guess_;
  size_t prompt_, seen_ = 0;
};

TEST(Generate, SpeculativeDraftsGiveTheScriptedTokensAndState) {
  const std::vector<Token> reply = {10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
  std::vector<Token> prompt = {1, 2, 3};
  std::vector<Token> guess = reply;
  guess[4] = 50;  // wrong: the verifier takes 14 itself
  guess.push_back(kEnd);
  auto m = model_replying(reply);
  GuessDrafter drafter(guess, prompt.size());
  GenerateParams p = greedy();
  p.drafter = &drafter;
  GenerateResult r = generate(*m, prompt, p);
  EXPECT_EQ(r.generated, reply);
  EXPECT_EQ(r.finish, FinishReason::stop_token);
  EXPECT_EQ(m->position(), 3 + int64_t(reply.size()));  // as without drafts: the stop token is never run
  EXPECT_GT(r.verify_steps, 0);
  EXPECT_GT(r.accepted, 5);
  EXPECT_LT(r.accepted, r.drafted);
}

TEST(Generate, StopsAtTheTokenBudget) {
  auto m = model_replying({10, 11, 12, 13});
  GenerateResult r = generate(*m, std::vector<Token>{1}, greedy(2));
  EXPECT_EQ(r.generated, (std::vector<Token>{10, 11}));
  EXPECT_EQ(r.finish, FinishReason::max_tokens);
  GenerateResult zero = generate(*model_replying({10}), std::vector<Token>{1}, greedy(0));
  EXPECT_TRUE(zero.generated.empty());
  EXPECT_EQ(zero.finish, FinishReason::max_tokens);
}

TEST(Generate, CallbackCanStopAfterAToken) {
  auto m = model_replying({10, 11, 12});
  GenerateParams p = greedy();
  std::vector<Token> seen;
  p.on_token = [&](Token t) {
    seen.push_back(t);
    return t != 11;
  };
  GenerateResult r = generate(*m, std::vector<Token>{1}, p);
  EXPECT_EQ(r.finish, FinishReason::callback_stop);
  EXPECT_EQ(seen, (std::vector<Token>{10, 11}));
  EXPECT_EQ(r.generated, seen);
}

TEST(Generate, CancelFlagStopsWithinOneStep) {
  auto m = model_replying(std::vector<Token>(1000, 10), 5000);
  std::atomic<bool> cancel{false};
  GenerateParams p = greedy(1000);
  p.cancel = &cancel;
  int n = 0;
  p.on_token = [&](Token) {
    if (++n == 5) cancel = true;
    return true;
  };
  GenerateResult r = generate(*m, std::vector<Token>{1}, p);
  EXPECT_EQ(r.finish, FinishReason::cancelled);
  EXPECT_EQ(r.generated.size(), 5u);
}

TEST(Generate, CancelledBeforeStartRunsNoPrefillChunk) {
  auto m = model_replying({10});
  std::atomic<bool> cancel{true};
  GenerateParams p = greedy();
  p.cancel = &cancel;
  GenerateResult r = generate(*m, std::vector<Token>(100, 1), p);
  EXPECT_EQ(r.finish, FinishReason::cancelled);
  EXPECT_EQ(r.prefilled_tokens, 0);
}

TEST(Generate, AllowedNextConstrainsAgainstTheScript) {
  auto m = model_replying({10, 11, 12});
  GenerateParams p = greedy(3);
  p.allowed_next = [](std::span<const Token> generated) {
    return generated.empty() ? std::vector<Token>{20, 21} : std::vector<Token>{};
  };
  GenerateResult r = generate(*m, std::vector<Token>{1}, p);
  EXPECT_EQ(r.generated[0], 20);  // the scripted 10 was not allowed; lowest id among equals wins
}

TEST(Generate, ResumesFromAStateHoldingAPrefixOfThePrompt) {
  auto m = model_replying({10});
  std::vector<Token> prefix = {1, 2, 3};
  m->prefill(prefix);
  std::vector<Token> prompt = {1, 2, 3, 4, 5};
  GenerateResult r = generate(*m, prompt, greedy());
  EXPECT_EQ(r.prefilled_tokens, 2);
  EXPECT_EQ(r.generated, (std::vector<Token>{10}));
  auto full = model_replying({10});
  full->prefill(prompt);
  EXPECT_THROW(generate(*full, prompt, greedy()), hearth::Error);
}

TEST(Generate, ContextLimitEndsGeneration) {
  auto m = model_replying(std::vector<Token>(50, 10), 8);
  GenerateResult r = generate(*m, std::vector<Token>{1, 2, 3}, greedy(100));
  EXPECT_EQ(r.finish, FinishReason::context_full);
  EXPECT_LE(m->position(), 8);
  auto over = model_replying({10}, 2);
  EXPECT_EQ(generate(*over, std::vector<Token>{1, 2, 3}, greedy()).finish, FinishReason::context_full);
}

TEST(Generate, PrefillInChunksGivesTheSameResult) {
  std::vector<Token> prompt(37, 5);
  auto a = model_replying({10, 11});
  auto b = model_replying({10, 11});
  GenerateParams one = greedy();
  one.prefill_chunk = 1000;
  GenerateParams chunked = greedy();
  chunked.prefill_chunk = 4;
  EXPECT_EQ(generate(*a, prompt, one).generated, generate(*b, prompt, chunked).generated);
}

TEST(ScriptedModel, AsksTheResponderAgainWhenTheSequenceLeavesTheScript) {
  auto calls = std::make_shared<int>(0);
  ScriptedModelOptions o;
  o.vocab_size = 50;
  o.end_token = 0;
  o.responder = [calls](std::span<const Token> seq) {
    ++*calls;
    return ScriptedReply{{Token(seq.size() % 50)}, {}};
  };
  ScriptedModel m(o);
  m.prefill(std::vector<Token>{1, 2});
  EXPECT_EQ(m.logits()[2], 30.0f);  // reply to a 2-token sequence: token 2
  m.prefill(std::vector<Token>{2});  // followed the script
  EXPECT_EQ(m.logits()[0], 30.0f);   // script exhausted: end token
  EXPECT_EQ(*calls, 1);
  m.prefill(std::vector<Token>{7});  // off script
  m.logits();
  EXPECT_EQ(*calls, 2);
  auto snap = m.save_state();
  EXPECT_EQ(snap->position(), 4);
  m.reset();
  EXPECT_EQ(m.position(), 0);
  m.restore_state(*snap);
  EXPECT_EQ(m.position(), 4);
  EXPECT_THROW(m.prefill(std::vector<Token>{77}), hearth::Error);  // outside the vocabulary
}

}  // namespace
}  // namespace hearth::engine
