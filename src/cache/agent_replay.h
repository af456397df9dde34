#pragma once
// Replays a synthetic agent session on any Model through the prompt cache, the way a coding agent
// drives a server: a static prefix, then turns that each resend the whole conversation plus about K new
// tokens (a tool result), the model answering a few tokens per turn. Reports per turn what the cache
// reused and what it cost; `hearth bench-cache` prints it, and tests assert on it.
#include <cstdint>
#include <functional>
#include <vector>

#include "cache/prompt_cache.h"
#include "engine/model.h"

namespace hearth::cache {

struct ReplayOptions {
  int turns = 20;
  int64_t static_tokens = 1000;   // tools + system prompt
  int64_t new_tokens = 1000;      // appended by each turn (the first turn's user message too)
  int64_t output_tokens = 16;     // generated per turn (greedy)
  // Between turns, run a short unrelated request (like Claude Code's side requests), so that each turn
  // must resume from a checkpoint rather than from the model's live sequence.
  bool interleave_side_requests = true;
  uint64_t seed = 1;
  int64_t prefill_chunk = 512;
};

struct ReplayTurn {
  int64_t prompt_tokens = 0;
  int64_t reused_tokens = 0;
  int64_t prefilled_tokens = 0;
  ResumeSource source = ResumeSource::none;
  double ttft_seconds = 0;        // from the cache lookup to the first generated token
  double restore_seconds = 0;
  double save_seconds = 0;
  int checkpoints_saved = 0;
  std::vector<engine::Token> generated;
};

struct ReplayReport {
  std::vector<ReplayTurn> turns;
  int64_t total_prompt_tokens = 0;
  int64_t total_prefilled_tokens = 0;
  int64_t total_reused_tokens = 0;
  StoreStats cache;
  // Snapshot cost at the final conversation length, measured apart from the turns.
  int64_t snapshot_position = 0;
  size_t snapshot_device_bytes = 0;
  size_t snapshot_host_bytes = 0;
  double save_seconds = 0;
  double restore_seconds = 0;
};

// Runs the session; `cache` must wrap `model`. `on_turn` (optional) sees each turn as it completes.
ReplayReport replay_agent_session(engine::Model& model, PromptCache& cache, const ReplayOptions& options,
                                  const std::function<void(int, const ReplayTurn&)>& on_turn = {});

}  // namespace hearth::cache
