#pragma once
// The prompt cache as one request sees it. Before prefill, begin() puts the model into the deepest state
// that is exactly a prefix of the new prompt (the live sequence left by the previous request, or a
// restored checkpoint; otherwise a reset) and plans where prefill must stop so that a checkpoint can be
// saved; the decode loop calls at_checkpoint() there; finish() keeps the end-of-generation state when
// the next turn is expected to extend it (checkpoint_planner.h).
//
// The model holds several sequences, one per slot; the cache remembers what each slot's live sequence
// holds. begin() ... finish() of two requests may interleave when they run in different slots (the
// scheduler runs them in one thread); anything else that mutates a slot between requests must call
// forget_live_sequence(slot). The cache is also the model's page reclaimer: when the KV page pool runs
// short, checkpoints that hold pages are demoted or dropped (CheckpointStore::release_pages).
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
  engine::SlotId slot() const { return slot_; }
  // Prefill has just reached `position`, one of checkpoint_positions(): snapshot the slot there.
  void at_checkpoint(int64_t position);
  // Generation is over: `generated` are the sampled tokens (without the stop token).
  void finish(std::span<const Token> generated, const GenerationEnd& end);
  const CacheOutcome& outcome() const { return outcome_; }

 private:
  friend class PromptCache;
  PromptCache* cache_ = nullptr;
  engine::SlotId slot_ = 0;
  std::vector<Token> prompt_;
  std::vector<PlannedCheckpoint> plan_;
  std::vector<int64_t> positions_;
  CacheOutcome outcome_;
};

class PromptCache {
 public:
  PromptCache(engine::Model& model, PromptCacheConfig config);
  ~PromptCache();
  PromptCache(const PromptCache&) = delete;
  PromptCache& operator=(const PromptCache&) = delete;

  // Of `free_slots` (not empty), the one to run `prompt` in: the slot whose live sequence is the longest
  // prefix of the prompt (its conversation's slot), else the one used least recently.
  engine::SlotId choose_slot(std::span<const Token> prompt, std::span<const engine::SlotId> free_slots) const;
  // Readies `slot` for `prompt` (see above). `layout` gives the prompt's boundaries (chat/).
  CachedRequest begin(engine::SlotId slot, std::span<const Token> prompt, const PromptLayout& layout);
  CachedRequest begin(std::span<const Token> prompt, const PromptLayout& layout) { return begin(0, prompt, layout); }
  void forget_live_sequence(engine::SlotId slot = 0) { live_.at(static_cast<size_t>(slot)).valid = false; }

  bool enabled() const { return config_.enabled; }
  StoreStats stats() const { return store_->stats(); }
  const CheckpointStore& store() const { return *store_; }
  const PromptCacheConfig& config() const { return config_; }

 private:
  friend class CachedRequest;
  void save(CachedRequest& request, std::span<const Token> path, CheckpointKind kind);

  // What a slot's live sequence holds.
  struct LiveSequence {
    std::vector<Token> tokens;  // when valid
    bool valid = false;
    uint64_t last_used = 0;
  };
  int64_t live_prefix(engine::SlotId slot, std::span<const Token> prompt, int64_t max_position) const;

  engine::Model& model_;
  PromptCacheConfig config_;
  std::unique_ptr<CheckpointStore> store_;
  std::vector<LiveSequence> live_;  // per slot
  uint64_t clock_ = 0;
};

}  // namespace hearth::cache
