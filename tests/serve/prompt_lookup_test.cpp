// Prompt-lookup drafting and the replay that measures it, on token sequences whose outcome is known.
#include <gtest/gtest.h>

#include <random>

#include "serve/lookup_replay.h"
#include "serve/prompt_lookup.h"
#include "util/error.h"

namespace hearth::serve {
namespace {

using Tokens = std::vector<int32_t>;

TEST(PromptLookup, ProposesWhatFollowedTheMostRecentEarlierOccurrence) {
  PromptLookupDrafter d;
  // "1 2 3 4" then "1 2 3 9", then the suffix "1 2 3": the most recent occurrence was followed by 9.
  d.append(Tokens{1, 2, 3, 4, 5, 6, 1, 2, 3, 9, 8, 7, 1, 2, 3});
  EXPECT_EQ(d.propose(4), (Tokens{9, 8, 7, 1}));
  EXPECT_EQ(d.propose(2), (Tokens{9, 8}));
}

TEST(PromptLookup, PrefersTheLongestMatchingSuffix) {
  PromptLookupDrafter d;
  // The 2-gram "5 6" last occurred before 40, but the 3-gram "4 5 6" only before 30.
  d.append(Tokens{4, 5, 6, 30, 31, 0, 5, 6, 40, 41, 0, 4, 5, 6});
  EXPECT_EQ(d.propose(2), (Tokens{30, 31}));
}

TEST(PromptLookup, NeverMatchesTheSuffixItselfAndNeedsMinNgram) {
  PromptLookupDrafter d;
  d.append(Tokens{1, 2, 3});
  EXPECT_TRUE(d.propose(4).empty());  // "2 3" occurs only as the suffix
  d.append(Tokens{7, 3});
  EXPECT_TRUE(d.propose(4).empty());  // "7 3" new; a 1-gram match ("3") is below min_ngram
}

TEST(PromptLookup, DraftStopsAtTheEndOfHistory) {
  PromptLookupDrafter d;
  d.append(Tokens{5, 6, 7, 5, 6});
  EXPECT_EQ(d.propose(8), (Tokens{7, 5, 6}));  // all the history has after "5 6"
}

TEST(PromptLookup, DraftLengthGrowsOnFullAcceptanceAndShrinksOnRejection) {
  PromptLookupOptions o;
  o.initial_draft = 4;
  o.max_draft = 8;
  PromptLookupDrafter d(o);
  d.feedback(4, 4);
  EXPECT_EQ(d.draft_length(), 8);
  d.feedback(8, 8);
  EXPECT_EQ(d.draft_length(), 8);
  d.feedback(8, 2);
  EXPECT_EQ(d.draft_length(), 3);
  d.feedback(3, 0);
  EXPECT_EQ(d.draft_length(), 1);
  d.feedback(1, 0);
  EXPECT_EQ(d.draft_length(), 1);
  d.restart_draft_length();
  EXPECT_EQ(d.draft_length(), 4);
  d.append(Tokens{1, 2, 3, 4, 5, 6, 7, 1, 2});
  d.feedback(4, 0);
  EXPECT_EQ(d.propose(8).size(), 2u);  // limited by the draft length
}

TEST(PromptLookup, IncrementalIndexAgreesWithABruteForceScanOnRandomText) {
  std::mt19937 rng(7);
  PromptLookupOptions o;
  o.initial_draft = 8;
  PromptLookupDrafter d(o);
  Tokens h;
  for (int step = 0; step < 3000; ++step) {
    const int32_t t = static_cast<int32_t>(rng() % 12);  // a small vocabulary: many repeats
    h.push_back(t);
    d.append(t);
    // Brute force: longest n from 4 to 2 whose suffix occurred earlier (with a follower), most recent.
    Tokens want;
    for (int n = 4; n >= 2 && want.empty(); --n) {
      if (h.size() < static_cast<size_t>(n) + 1) continue;
      for (size_t end = h.size() - 1; end >= static_cast<size_t>(n); --end) {
        if (std::equal(h.end() - n, h.end(), h.begin() + static_cast<std::ptrdiff_t>(end) - n)) {
          want.assign(h.begin() + static_cast<std::ptrdiff_t>(end), h.begin() + static_cast<std::ptrdiff_t>(std::min(h.size(), end + 8)));
          break;
        }
      }
    }
    ASSERT_EQ(d.propose(8), want) << "at step " << step;
  }
}

TEST(PromptLookup, RefusesInconsistentOptions) {
  PromptLookupOptions o;
  o.min_ngram = 5;
  EXPECT_THROW(PromptLookupDrafter{o}, Error);
}

TEST(VerifyCost, InterpolatesAndExtendsTheTable) {
  const VerifyCostTable t = VerifyCostTable::parse("2:1.1,4:1.3");
  EXPECT_DOUBLE_EQ(t.cost(1), 1.0);  // implied
  EXPECT_DOUBLE_EQ(t.cost(3), 1.2);
  EXPECT_DOUBLE_EQ(t.cost(6), 1.5);  // along the last segment
  EXPECT_EQ(t.describe(), "1:1,2:1.1,4:1.3");
  EXPECT_NEAR(VerifyCostTable().cost(9), 1.4625, 1e-12);
  EXPECT_THROW(VerifyCostTable::parse("2:1.1,x"), Error);
  EXPECT_THROW(VerifyCostTable::parse("0:1"), Error);
  EXPECT_THROW(VerifyCostTable::parse("2:1,2:3"), Error);
}

// A turn that copies 20 tokens of the context after a 3-token novel start: every figure is known.
TEST(LookupReplay, CopiedTurnGivesTheExactStepsAndCost) {
  Tokens context;
  for (int32_t i = 100; i < 140; ++i) context.push_back(i);  // distinct tokens
  Tokens turn = {1, 2, 3};                                    // novel: nothing to look up
  for (int32_t i = 110; i < 130; ++i) turn.push_back(i);      // then a copy of context[10..30)
  PromptLookupOptions o;
  o.initial_draft = 4;
  o.max_draft = 8;
  PromptLookupDrafter d(o);
  d.append(context);
  const LookupStats s = replay_turn(d, turn, VerifyCostTable::parse("1:1,2:1,8:1"));  // flat costs
  // Five plain steps (1, 2, 3, 110, 111: no earlier "3 110", and one copied token is below min_ngram);
  // then "110 111" is found: drafts of 4 (all accepted, plus the verifier's token), 8 (the same), and
  // the 4 tokens left.
  EXPECT_EQ(s.tokens, 23);
  EXPECT_EQ(s.drafted, 4 + 8 + 4);
  EXPECT_EQ(s.accepted, 4 + 8 + 4);
  EXPECT_EQ(s.steps, 5 + 3);
  EXPECT_EQ(s.draft_steps, 3);
  EXPECT_DOUBLE_EQ(s.cost, 8.0);
  EXPECT_DOUBLE_EQ(s.speedup(), 23.0 / 8.0);
  EXPECT_EQ(d.size(), context.size() + turn.size());
}

TEST(LookupReplay, RejectedDraftsCostButDoNotAdvance) {
  Tokens context = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  Tokens turn = {1, 2, 30, 31};  // "1 2" predicts "3 4 ..." but the truth diverges
  PromptLookupDrafter d;
  d.append(context);
  const LookupStats s = replay_turn(d, turn, VerifyCostTable());
  // 1 (no "9 1" seen), 2 (no), then "1 2" -> draft [3 4] (capped at 2 remaining), 0 accepted, the
  // verifier's 30; then "2 30" unseen -> 31.
  EXPECT_EQ(s.steps, 4);
  EXPECT_EQ(s.drafted, 2);
  EXPECT_EQ(s.accepted, 0);
  EXPECT_NEAR(s.cost, 3.0 + 1.1, 1e-12);  // default table: k = 3 tokens -> 1.10
  EXPECT_LT(s.speedup(), 1.0);
}

}  // namespace
}  // namespace hearth::serve
