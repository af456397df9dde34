#include "cache/checkpoint_planner.h"

#include <gtest/gtest.h>

namespace hearth::cache {
namespace {

using K = CheckpointKind;

}  // namespace

// Readable failure messages.
void PrintTo(const PlannedCheckpoint& c, std::ostream* os) { *os << c.position << ":" << to_string(c.kind); }

namespace {

PromptLayout layout(int64_t tokens, std::vector<Boundary> boundaries) {
  return PromptLayout{tokens, std::move(boundaries)};
}

TEST(CheckpointPlanner, FirstRequestCheckpointsStaticPrefixQueryEndAndNotThePromptEndRightAfterIt) {
  // tools+system (0..3000), environment system message (..3400), user query (..3600), generation prompt.
  auto plan = plan_checkpoints(
      layout(3605, {{3000, K::static_prefix}, {3400, K::message_end}, {3600, K::user_query_end}}), 0);
  EXPECT_EQ(plan, (std::vector<PlannedCheckpoint>{{3000, K::static_prefix}, {3400, K::message_end}, {3600, K::user_query_end}}));
}

TEST(CheckpointPlanner, OnlyPositionsAfterTheResumedOneArePlanned) {
  auto plan = plan_checkpoints(
      layout(5000, {{3000, K::static_prefix}, {4000, K::user_query_end}, {4602, K::message_end}, {4995, K::message_end}}),
      4600);
  // 4602 is within min_gap of the resume point (the end of generation two tokens earlier); the prompt
  // end is within min_gap of the last message end.
  EXPECT_EQ(plan, (std::vector<PlannedCheckpoint>{{4995, K::message_end}}));
}

TEST(CheckpointPlanner, PromptEndIsPlannedWhenNoBoundaryIsNearIt) {
  auto plan = plan_checkpoints(layout(1000, {{100, K::static_prefix}}), 0);
  EXPECT_EQ(plan, (std::vector<PlannedCheckpoint>{{100, K::static_prefix}, {1000, K::prompt_end}}));
  PlanOptions no_end;
  no_end.prompt_end = false;
  EXPECT_EQ(plan_checkpoints(layout(1000, {{100, K::static_prefix}}), 0, no_end),
            (std::vector<PlannedCheckpoint>{{100, K::static_prefix}}));
}

TEST(CheckpointPlanner, AnchorsAreKeptEvenWhenCloseToEachOther) {
  auto plan = plan_checkpoints(layout(515, {{500, K::static_prefix}, {510, K::user_query_end}}), 0);
  EXPECT_EQ(plan, (std::vector<PlannedCheckpoint>{{500, K::static_prefix}, {510, K::user_query_end}}));
}

TEST(CheckpointPlanner, LongHistoryGetsOnlyItsDeepestMessageEnds) {
  std::vector<Boundary> bounds{{100, K::static_prefix}};
  for (int i = 1; i <= 20; ++i) bounds.push_back({100 + 100 * i, K::message_end});
  PlanOptions options;
  options.max_message_checkpoints = 3;
  options.prompt_end = false;
  auto plan = plan_checkpoints(layout(2105, bounds), 0, options);
  EXPECT_EQ(plan, (std::vector<PlannedCheckpoint>{
                      {100, K::static_prefix}, {1900, K::message_end}, {2000, K::message_end}, {2100, K::message_end}}));
}

TEST(CheckpointPlanner, CrowdedMessageEndsKeepTheDeeperOne) {
  auto plan = plan_checkpoints(layout(3000, {{1000, K::message_end}, {1010, K::message_end}}), 0);
  EXPECT_EQ(plan, (std::vector<PlannedCheckpoint>{{1010, K::message_end}, {3000, K::prompt_end}}));
}

TEST(CheckpointPlanner, NothingToPlanWhenTheWholePromptWasResumed) {
  EXPECT_TRUE(plan_checkpoints(layout(100, {{50, K::static_prefix}}), 100).empty());
}

TEST(CheckpointPlanner, GenerationEndIsWorthSavingOnlyWhenTheTurnWillBeReRenderedAsGenerated) {
  EXPECT_TRUE(generation_end_worth_saving({GenerationStop::end_of_turn, 1, false}));   // tool results follow
  EXPECT_FALSE(generation_end_worth_saving({GenerationStop::end_of_turn, 0, false}));  // a new query drops reasoning
  EXPECT_TRUE(generation_end_worth_saving({GenerationStop::end_of_turn, 0, true}));    // preserve_thinking
  EXPECT_FALSE(generation_end_worth_saving({GenerationStop::max_tokens, 1, true}));
  EXPECT_FALSE(generation_end_worth_saving({GenerationStop::stop_sequence, 1, false}));
  EXPECT_FALSE(generation_end_worth_saving({GenerationStop::cancelled, 2, true}));
}

}  // namespace
}  // namespace hearth::cache
