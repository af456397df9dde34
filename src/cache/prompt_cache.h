#pragma once
// The prompt cache as one request sees it. Before prefill, begin() puts the model into the deepest state
// that is exactly a prefix of the new prompt (the live sequence left by the previous request, or a
// restored checkpoint; otherwise a reset) and plans where prefill must stop so that a checkpoint can be
// saved; the decode loop calls at_checkpoint() there; finish() keeps the end-of-generation state when
// the next turn is expected to extend it (checkpoint_planner.h).
//
// One model holds one sequence: begin() ... finish() of two requests must not interleave (the server
// runs requests on a model one at a time). Anything else that mutates the model between requests must
// call forget_live_sequence().
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "cache/checkpoint_planner.h"
#include "cache/checkpoint_store.h"

namespace hearth::cache {

struct PromptCacheConfig {
  bool enabled = true;    // false: every request starts from a reset model (the reference behaviour)
  StoreConfig store;
  PlanOptions plan;
};

enum class ResumeSource { none, live_sequence, device, host, disk };
std::string_view to_string(ResumeSource source);

// What the cache did for one request: the figures of the metrics log and of usage.cache_read_input_tokens.
struct CacheOutcome {
  bool enabled = false;
  ResumeSource source = ResumeSource::none;
  int64_t prompt_tokens = 0;
  int64_t reused_tokens = 0;         // prompt tokens not prefilled
  int64_t checkpoint_position = -1;  // position of the restored checkpoint; -1 when none was restored
  double restore_seconds = 0;
  int checkpoints_saved = 0;
  double save_seconds = 0;           // snapshotting and storing, during prefill and after generation
  int64_t created_tokens = 0;        // prompt tokens newly covered by checkpoints saved for this request
  bool generation_end_saved = false;
  bool hit() const { return reused_tokens > 0; }
};

class PromptCache;

class CachedRequest {
 public:
  // Prompt positions (ascending, > the resumed position) where prefill must pause for at_checkpoint().
  const std::vector<int64_t>& checkpoint_positions() const { return positions_; }
  // Prefill has just reached `position`, one of checkpoint_positions(): snapshot the model there.
  void at_checkpoint(int64_t position);
  // Generation is over: `generated` are the sampled tokens (without the stop token).
  void finish(std::span<const Token> generated, const GenerationEnd& end);
  const CacheOutcome& outcome() const { return outcome_; }

 private:
  friend class PromptCache;
  PromptCache* cache_ = nullptr;
  std::vector<Token> prompt_;
  std::vector<PlannedCheckpoint> plan_;
  std::vector<int64_t> positions_;
  CacheOutcome outcome_;
};

class PromptCache {
 public:
  PromptCache(engine::Model& model, PromptCacheConfig config);

  // Readies the model for `prompt` (see above). `layout` gives the prompt's boundaries (chat/).
  CachedRequest begin(std::span<const Token> prompt, const PromptLayout& layout);
  void forget_live_sequence() { live_valid_ = false; }

  bool enabled() const { return config_.enabled; }
  StoreStats stats() const { return store_->stats(); }
  const CheckpointStore& store() const { return *store_; }
  const PromptCacheConfig& config() const { return config_; }

 private:
  friend class CachedRequest;
  void save(CachedRequest& request, std::span<const Token> path, CheckpointKind kind);

  engine::Model& model_;
  PromptCacheConfig config_;
  std::unique_ptr<CheckpointStore> store_;
  std::vector<Token> live_;   // the tokens the model's live state holds, when live_valid_
  bool live_valid_ = false;
};

}  // namespace hearth::cache
