#pragma once
// Replays N synthetic agent sessions at once through the scheduler (continuous batching over the model's
// slots), the way several Claude Code sessions (or one with subagents) load a server: every session
// starts from the same tools + system prefix, then runs turns that each resend its whole conversation
// plus about K new tokens (a tool result) and generate a reply. Reports each turn's time to first token
// and decode rate, and the aggregate over the run. `hearth bench-serve` prints it; tests assert on it.
#include <cstdint>
#include <functional>
#include <vector>

#include "cache/prompt_cache.h"
#include "engine/model.h"

namespace hearth::serve {

struct ServingReplayOptions {
  int sessions = 4;
  int turns = 4;
  int64_t shared_tokens = 20000;  // tools + system prompt, identical in every session
  int64_t new_tokens = 1000;      // appended by each turn (the first turn's user message too)
  int64_t output_tokens = 128;    // generated per turn (greedy, no stop token)
  int64_t step_tokens = 512;      // the scheduler's tokens per step (hearth serve --step-tokens)
  uint64_t seed = 1;
};

struct ServedTurn {
  int session = 0;
  int turn = 0;
  int64_t prompt_tokens = 0;
  int64_t reused_tokens = 0;      // prompt tokens the prompt cache supplied
  double ttft_seconds = 0;        // from submission to the first generated token (queueing included)
  double decode_seconds = 0;      // from the first generated token to the last
  int64_t generated_tokens = 0;
  std::vector<engine::Token> generated;
  double decode_tokens_per_second() const {
    return decode_seconds > 0 ? double(generated_tokens - 1) / decode_seconds : 0;
  }
};

struct ServingReport {
  int sessions = 0;
  std::vector<ServedTurn> turns;  // in completion order
  double wall_seconds = 0;
  int64_t generated_tokens = 0;
  // Decode rates: per session, the mean over its turns of (tokens − 1) / decode time; aggregate, the
  // sum of the sessions' rates (they decode side by side).
  std::vector<double> session_decode_tokens_per_second;
  double aggregate_decode_tokens_per_second = 0;
  // Time to first token over turns 2.. (turn 1 prefills each session's prompt from cold; turns 2.. of
  // all sessions start together once every session has finished turn 1).
  double ttft_p50_seconds = 0;
  double ttft_p99_seconds = 0;
  double first_turn_ttft_max_seconds = 0;
};

// Runs the sessions to the end; `cache` must wrap `model`, which needs at least `sessions` slots.
// `on_turn` (optional) sees each turn as it completes, from the session's thread (serialised).
ServingReport replay_concurrent_sessions(engine::Model& model, cache::PromptCache& cache, const ServingReplayOptions& options,
                                         const std::function<void(const ServedTurn&)>& on_turn = {});

// The p-th percentile (0..100) of `values`, nearest rank; 0 when empty.
double percentile(std::vector<double> values, double p);

}  // namespace hearth::serve
