// The prompt cache end to end on the fake model, with a miniature chat format that behaves like Qwen3.5's
// where it matters: the static prefix comes first, every message ends at a boundary, the generation
// prompt opens a thinking block, and an assistant turn's reasoning is dropped from the re-rendered
// history once a later real user query arrives.
#include "cache/prompt_cache.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "fake_model.h"

namespace hearth::cache {
namespace {

using testing::FakeModel;
using testing::FakeModelOptions;
using Tokens = std::vector<Token>;

constexpr Token kUser = 1, kAssistant = 2, kThink = 3, kThinkEnd = 4, kEnd = 5, kToolResult = 6;

// --- the miniature chat format ---------------------------------------------------------------------
struct Turn {
  enum Kind { user_query, tool_results, assistant } kind;
  Tokens body;        // user/tool content, or the assistant's content (after its reasoning)
  Tokens reasoning;   // assistant only
};

struct Rendered {
  Tokens tokens;
  PromptLayout layout;
};

Rendered render(const Tokens& system, const std::vector<Turn>& turns) {
  Rendered r;
  r.tokens = system;
  r.layout.boundaries.push_back({static_cast<int64_t>(r.tokens.size()), CheckpointKind::static_prefix});
  size_t last_query = 0;
  for (size_t i = 0; i < turns.size(); ++i)
    if (turns[i].kind == Turn::user_query) last_query = i;
  for (size_t i = 0; i < turns.size(); ++i) {
    const Turn& t = turns[i];
    if (t.kind == Turn::assistant) {
      r.tokens.push_back(kAssistant);
      if (i > last_query) {  // reasoning kept only after the last real query
        r.tokens.push_back(kThink);
        r.tokens.insert(r.tokens.end(), t.reasoning.begin(), t.reasoning.end());
        r.tokens.push_back(kThinkEnd);
      }
    } else {
      r.tokens.push_back(t.kind == Turn::user_query ? kUser : kToolResult);
    }
    r.tokens.insert(r.tokens.end(), t.body.begin(), t.body.end());
    r.tokens.push_back(kEnd);
    CheckpointKind kind = (t.kind == Turn::user_query && i == last_query) ? CheckpointKind::user_query_end
                                                                          : CheckpointKind::message_end;
    r.layout.boundaries.push_back({static_cast<int64_t>(r.tokens.size()), kind});
  }
  r.tokens.push_back(kAssistant);  // generation prompt
  r.tokens.push_back(kThink);
  r.layout.prompt_tokens = static_cast<int64_t>(r.tokens.size());
  return r;
}

// --- a decode loop like engine::generate: prefill stops at the planned checkpoints -----------------
struct RunResult {
  Tokens generated;
  int64_t prefilled = 0;
  CacheOutcome outcome;
};

RunResult run(FakeModel& model, PromptCache& cache, const Rendered& prompt, int new_tokens, int tool_calls) {
  int64_t before = model.prefilled;
  CachedRequest request = cache.begin(prompt.tokens, prompt.layout);
  int64_t pos = model.position();
  std::span<const Token> all(prompt.tokens);
  for (int64_t cp : request.checkpoint_positions()) {
    model.prefill(all.subspan(pos, cp - pos));
    request.at_checkpoint(cp);
    pos = cp;
  }
  if (pos < static_cast<int64_t>(all.size())) model.prefill(all.subspan(pos));
  RunResult result;
  // Greedy. The "model" closes its reasoning halfway (kThinkEnd, forced) and emits the end-of-turn token
  // after new_tokens tokens (not fed, like a stop token).
  for (int i = 0; i < new_tokens; ++i) {
    auto logits = model.logits();
    Token next = static_cast<Token>(std::max_element(logits.begin(), logits.end()) - logits.begin()) + 10;
    if (i == new_tokens / 2) next = kThinkEnd;
    result.generated.push_back(next);
    model.prefill(std::span<const Token>(&next, 1));
  }
  request.finish(result.generated, {GenerationStop::end_of_turn, tool_calls, false});
  result.prefilled = model.prefilled - before - new_tokens;
  result.outcome = request.outcome();
  return result;
}

// The turn as the client sends it back: reasoning (before kThinkEnd) and content (after it).
Turn assistant_turn(const Tokens& generated) {
  auto close = std::find(generated.begin(), generated.end(), kThinkEnd);
  Tokens reasoning(generated.begin(), close);
  Tokens content(close == generated.end() ? close : close + 1, generated.end());
  return Turn{Turn::assistant, content, reasoning};
}

Tokens block(int n, Token start) {
  Tokens t;
  for (int i = 0; i < n; ++i) t.push_back(start + i % 50);
  return t;
}

PromptCacheConfig roomy() {
  PromptCacheConfig c;
  c.store.device_budget_bytes = 1 << 30;
  c.store.host_budget_bytes = 1 << 30;
  c.plan.min_gap = 4;
  return c;
}

struct AgentScript {
  Tokens system = block(300, 100);
  std::vector<Turn> turns;
};

// Ten agent turns: one query, tool loops, a second query (reasoning of the first loop gets dropped),
// more tool loops. Returns the generated tokens of each turn. `between` runs between turns (side
// requests that clobber the live sequence, or nothing).
template <typename Between>
std::vector<RunResult> play_agent_session(FakeModel& model, PromptCache& cache, Between between) {
  AgentScript s;
  std::vector<RunResult> results;
  const int kTurns = 10;
  for (int turn = 0; turn < kTurns; ++turn) {
    if (turn == 0 || turn == 6) {
      s.turns.push_back({Turn::user_query, block(40 + turn, 200 + turn), {}});
    } else {
      s.turns.push_back({Turn::tool_results, block(25 + 3 * turn, 300 + turn), {}});
    }
    Rendered prompt = render(s.system, s.turns);
    // Turns 5 and 9 end without tool calls (the next turn brings a new query or the session ends).
    int tool_calls = (turn == 5 || turn == 9) ? 0 : 1;
    RunResult r = run(model, cache, prompt, 12, tool_calls);
    s.turns.push_back(assistant_turn(r.generated));
    results.push_back(std::move(r));
    between(turn);
  }
  return results;
}

}  // namespace

TEST(PromptCache, GreedyOutputIsIdenticalWithTheCacheOnAndOffOverATenTurnAgentSession) {
  FakeModel on_model, off_model;
  PromptCache on(on_model, roomy());
  PromptCacheConfig disabled = roomy();
  disabled.enabled = false;
  PromptCache off(off_model, disabled);
  Tokens side_system = block(80, 600);
  auto side_request = [&](FakeModel& m, PromptCache& c) {
    return [&m, &c, side_system](int turn) {
      run(m, c, render(side_system, {{Turn::user_query, block(10, 700 + turn), {}}}), 3, 0);
    };
  };
  auto with_cache = play_agent_session(on_model, on, side_request(on_model, on));
  auto without = play_agent_session(off_model, off, side_request(off_model, off));
  ASSERT_EQ(with_cache.size(), without.size());
  int64_t prefilled_on = 0, prefilled_off = 0;
  for (size_t i = 0; i < with_cache.size(); ++i) {
    EXPECT_EQ(with_cache[i].generated, without[i].generated) << "turn " << i;
    EXPECT_EQ(without[i].outcome.reused_tokens, 0);
    prefilled_on += with_cache[i].prefilled;
    prefilled_off += without[i].prefilled;
  }
  EXPECT_LT(prefilled_on * 3, prefilled_off) << "the cache should have saved most of the prefill";
}

TEST(PromptCache, EveryToolLoopTurnPrefillsOnlyItsNewTokensDespiteInterleavedSideRequests) {
  FakeModel model;
  PromptCache cache(model, roomy());
  Tokens side_system = block(80, 600);
  std::vector<int64_t> prompt_sizes;
  AgentScript s;
  std::vector<RunResult> results;
  for (int turn = 0; turn < 10; ++turn) {
    bool query = turn == 0 || turn == 6;
    s.turns.push_back({query ? Turn::user_query : Turn::tool_results, block(30 + turn, 200 + 7 * turn), {}});
    Rendered prompt = render(s.system, s.turns);
    int tool_calls = (turn == 5 || turn == 9) ? 0 : 1;
    RunResult r = run(model, cache, prompt, 12, tool_calls);
    prompt_sizes.push_back(prompt.layout.prompt_tokens);
    // Sent back as reasoning + content: re-rendered as generated while the turn follows the last query.
    s.turns.push_back(assistant_turn(r.generated));
    // A side request with another system prompt clobbers the live sequence: reuse must come from checkpoints.
    run(model, cache, render(side_system, {{Turn::user_query, block(10, 700 + turn), {}}}), 3, 0);
    results.push_back(std::move(r));
  }
  for (int turn = 1; turn < 10; ++turn) {
    SCOPED_TRACE("turn " + std::to_string(turn));
    const RunResult& r = results[turn];
    EXPECT_TRUE(r.outcome.hit());
    if (turn == 6) {
      // New query: the format dropped the reasoning of turns 1..5, so the prompt diverges right after
      // the first query's end; everything from there is re-prefilled.
      int64_t first_query_end = prompt_sizes[0] - 2;  // minus the generation prompt
      EXPECT_EQ(r.outcome.checkpoint_position, first_query_end);
      EXPECT_EQ(r.prefilled, prompt_sizes[turn] - first_query_end);
    } else {
      // Only the new message (after the end-of-turn token of the previous output) and the generation prompt.
      int64_t previous_end = prompt_sizes[turn - 1] + 12;
      EXPECT_EQ(r.outcome.checkpoint_position, previous_end);
      EXPECT_EQ(r.prefilled, prompt_sizes[turn] - previous_end);
      EXPECT_EQ(r.outcome.source, ResumeSource::device);
    }
  }
  // Turns 5 and 9 ended without tool calls: no end-of-generation checkpoint for them.
  EXPECT_FALSE(results[5].outcome.generation_end_saved);
  EXPECT_TRUE(results[4].outcome.generation_end_saved);
}

TEST(PromptCache, NextTurnReusesTheLiveSequenceWithoutARestore) {
  FakeModel model;
  PromptCache cache(model, roomy());
  AgentScript s;
  s.turns.push_back({Turn::user_query, block(40, 200), {}});
  RunResult first = run(model, cache, render(s.system, s.turns), 8, 1);
  s.turns.push_back(assistant_turn(first.generated));
  s.turns.push_back({Turn::tool_results, block(20, 300), {}});
  Rendered second_prompt = render(s.system, s.turns);
  int64_t restores = model.restores;
  RunResult second = run(model, cache, second_prompt, 8, 1);
  EXPECT_EQ(model.restores, restores);
  EXPECT_EQ(second.outcome.source, ResumeSource::live_sequence);
  EXPECT_EQ(second.outcome.reused_tokens, first.outcome.prompt_tokens + 8);
  EXPECT_EQ(second.outcome.checkpoint_position, -1);
}

TEST(PromptCache, SecondSessionSharingTheSystemPromptReusesItOnItsFirstRequest) {
  FakeModel model;
  PromptCache cache(model, roomy());
  Tokens system = block(500, 100);
  run(model, cache, render(system, {{Turn::user_query, block(30, 200), {}}}), 5, 0);
  RunResult other = run(model, cache, render(system, {{Turn::user_query, block(30, 250), {}}}), 5, 0);
  EXPECT_EQ(other.outcome.checkpoint_position, 500);
  EXPECT_EQ(other.outcome.reused_tokens, 500);
  EXPECT_EQ(other.prefilled, other.outcome.prompt_tokens - 500);
}

TEST(PromptCache, TinyBudgetKeepsOutputsIdenticalAndNeverExceedsIt) {
  FakeModelOptions opts{.device_bytes = 1000, .offloaded_bytes = 1000};
  FakeModel tight_model(opts), reference_model(opts);
  PromptCacheConfig tight = roomy();
  tight.store.device_budget_bytes = 2000;  // two device checkpoints
  tight.store.host_budget_bytes = 1000;    // one host checkpoint
  PromptCache tight_cache(tight_model, tight);
  PromptCacheConfig off = roomy();
  off.enabled = false;
  PromptCache reference_cache(reference_model, off);
  size_t max_device = 0, max_host = 0;
  auto check_budget = [&](int) {
    StoreStats s = tight_cache.stats();
    max_device = std::max(max_device, s.device_bytes);
    max_host = std::max(max_host, s.host_bytes);
    // Side requests of three other sessions compete for the same tiny budget.
    for (int k = 0; k < 3; ++k) run(tight_model, tight_cache, render(block(60, 900 + k), {{Turn::user_query, block(5, 10), {}}}), 2, 0);
    s = tight_cache.stats();
    max_device = std::max(max_device, s.device_bytes);
    max_host = std::max(max_host, s.host_bytes);
  };
  auto tight_results = play_agent_session(tight_model, tight_cache, check_budget);
  auto reference_results = play_agent_session(reference_model, reference_cache, [](int) {});
  for (size_t i = 0; i < tight_results.size(); ++i) EXPECT_EQ(tight_results[i].generated, reference_results[i].generated);
  EXPECT_LE(max_device, 2000u);
  EXPECT_LE(max_host, 1000u);
  StoreStats s = tight_cache.stats();
  EXPECT_GT(s.evicted, 0u);
  EXPECT_GT(s.demoted, 0u);
}

TEST(PromptCache, DisabledCacheStartsEveryRequestFromAResetModel) {
  FakeModel model;
  PromptCacheConfig config = roomy();
  config.enabled = false;
  PromptCache cache(model, config);
  Rendered prompt = render(block(100, 100), {{Turn::user_query, block(10, 200), {}}});
  run(model, cache, prompt, 4, 1);
  RunResult again = run(model, cache, prompt, 4, 1);
  EXPECT_FALSE(again.outcome.hit());
  EXPECT_EQ(again.prefilled, prompt.layout.prompt_tokens);
  EXPECT_EQ(cache.stats().device_checkpoints, 0u);
}

TEST(PromptCache, RepeatedRequestReusesAllButTheGenerationPrompt) {
  FakeModel model;
  PromptCache cache(model, roomy());
  Rendered prompt = render(block(100, 100), {{Turn::user_query, block(50, 200), {}}});
  RunResult first = run(model, cache, prompt, 4, 0);
  RunResult again = run(model, cache, prompt, 4, 0);
  EXPECT_EQ(again.generated, first.generated);
  EXPECT_EQ(again.outcome.checkpoint_position, prompt.layout.prompt_tokens - 2);  // the query's end
  EXPECT_EQ(again.prefilled, 2);
  EXPECT_GT(first.outcome.created_tokens, 0);
  EXPECT_EQ(again.outcome.checkpoints_saved, 0);
}

}  // namespace hearth::cache
