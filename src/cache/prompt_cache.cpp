#include "cache/prompt_cache.h"

#include <algorithm>
#include <chrono>

#include "util/error.h"

namespace hearth::cache {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

ResumeSource source_for(Tier tier) {
  switch (tier) {
    case Tier::device: return ResumeSource::device;
    case Tier::host: return ResumeSource::host;
    case Tier::disk: return ResumeSource::disk;
  }
  return ResumeSource::none;
}

}  // namespace

std::string_view to_string(ResumeSource source) {
  switch (source) {
    case ResumeSource::none: return "none";
    case ResumeSource::live_sequence: return "live";
    case ResumeSource::device: return "device";
    case ResumeSource::host: return "host";
    case ResumeSource::disk: return "disk";
  }
  return "?";
}

PromptCache::PromptCache(engine::Model& model, PromptCacheConfig config)
    : model_(model),
      config_(std::move(config)),
      store_(std::make_unique<CheckpointStore>(model, config_.store)),
      live_(static_cast<size_t>(std::max<int32_t>(1, model.info().slots))) {
  model_.set_page_reclaimer([this] { return store_->release_pages(); });
}

PromptCache::~PromptCache() { model_.set_page_reclaimer(nullptr); }

// The length of the slot's live sequence when it is a prefix of `prompt` no longer than max_position;
// -1 otherwise.
int64_t PromptCache::live_prefix(engine::SlotId slot, std::span<const Token> prompt, int64_t max_position) const {
  const LiveSequence& live = live_.at(static_cast<size_t>(slot));
  const int64_t length = static_cast<int64_t>(live.tokens.size());
  if (!live.valid || live.tokens.empty() || length > max_position || model_.slot_position(slot) != length ||
      !std::equal(live.tokens.begin(), live.tokens.end(), prompt.begin())) {
    return -1;
  }
  return length;
}

engine::SlotId PromptCache::choose_slot(std::span<const Token> prompt, std::span<const engine::SlotId> free_slots) const {
  if (free_slots.empty()) throw Error("prompt cache: no free slot to choose from", ErrorKind::internal);
  const int64_t max_position = static_cast<int64_t>(prompt.size()) - 1;
  engine::SlotId best = free_slots.front();
  int64_t best_length = -1;
  for (engine::SlotId slot : free_slots) {
    const int64_t length = config_.enabled ? live_prefix(slot, prompt, max_position) : -1;
    const bool older = live_.at(static_cast<size_t>(slot)).last_used < live_.at(static_cast<size_t>(best)).last_used;
    if (length > best_length || (length == best_length && older)) {
      best = slot;
      best_length = length;
    }
  }
  return best;
}

CachedRequest PromptCache::begin(engine::SlotId slot, std::span<const Token> prompt, const PromptLayout& layout) {
  CachedRequest request;
  request.cache_ = this;
  request.slot_ = slot;
  request.prompt_.assign(prompt.begin(), prompt.end());
  CacheOutcome& outcome = request.outcome_;
  outcome.enabled = config_.enabled;
  outcome.prompt_tokens = static_cast<int64_t>(prompt.size());
  LiveSequence& live = live_.at(static_cast<size_t>(slot));
  live.last_used = ++clock_;
  // At least one prompt token is always prefilled: sampling needs the logits after the last one.
  const int64_t max_position = static_cast<int64_t>(prompt.size()) - 1;
  const int64_t live_length = config_.enabled && !prompt.empty() ? live_prefix(slot, prompt, max_position) : -1;
  live.valid = false;  // until finish() says what the slot holds
  if (!config_.enabled || prompt.empty()) {
    model_.reset_slot(slot);
    store_->trim();
    return request;
  }

  std::optional<FoundCheckpoint> found = store_->find(prompt, max_position);
  if (live_length > 0 && live_length >= (found ? found->position : 0)) {
    outcome.source = ResumeSource::live_sequence;
    outcome.reused_tokens = live_length;
  } else if (found) {
    auto start = std::chrono::steady_clock::now();
    model_.restore_slot(slot, *found->snapshot);
    outcome.restore_seconds = seconds_since(start);
    outcome.source = source_for(found->tier);
    outcome.reused_tokens = found->position;
    outcome.checkpoint_position = found->position;
  } else {
    model_.reset_slot(slot);
  }
  if (model_.slot_position(slot) != outcome.reused_tokens) {
    throw Error("prompt cache: slot " + std::to_string(slot) + " is at position " + std::to_string(model_.slot_position(slot)) +
                    " after resuming at " + std::to_string(outcome.reused_tokens),
                ErrorKind::internal);
  }
  // The slot has let go of its previous sequence's pages; those a checkpoint shares are now the cache's
  // memory alone (checkpoint_store.h: host memory of KV pages).
  store_->trim();

  for (const PlannedCheckpoint& planned : plan_checkpoints(layout, outcome.reused_tokens, config_.plan)) {
    if (store_->contains(prompt.first(static_cast<size_t>(planned.position)))) continue;
    request.plan_.push_back(planned);
    request.positions_.push_back(planned.position);
  }
  return request;
}

void CachedRequest::at_checkpoint(int64_t position) {
  auto it = std::find_if(plan_.begin(), plan_.end(), [&](const PlannedCheckpoint& p) { return p.position == position; });
  if (it == plan_.end() || cache_->model_.slot_position(slot_) != position) {
    throw Error("prompt cache: checkpoint at position " + std::to_string(position) + " was not planned or the slot is at " +
                    std::to_string(cache_->model_.slot_position(slot_)),
                ErrorKind::internal);
  }
  cache_->save(*this, std::span<const Token>(prompt_).first(static_cast<size_t>(position)), it->kind);
}

void CachedRequest::finish(std::span<const Token> generated, const GenerationEnd& end) {
  engine::Model& model = cache_->model_;
  const int64_t held = model.slot_position(slot_);
  const int64_t prompt_size = static_cast<int64_t>(prompt_.size());
  if (held < prompt_size || held > prompt_size + static_cast<int64_t>(generated.size())) {
    return;  // the slot holds something this request cannot name: its live sequence stays unknown
  }
  PromptCache::LiveSequence& live = cache_->live_.at(static_cast<size_t>(slot_));
  live.tokens = prompt_;
  live.tokens.insert(live.tokens.end(), generated.begin(), generated.begin() + (held - prompt_size));
  live.valid = true;
  if (outcome_.enabled && held > prompt_size && generation_end_worth_saving(end)) {
    int saved_before = outcome_.checkpoints_saved;
    cache_->save(*this, live.tokens, CheckpointKind::generation_end);
    outcome_.generation_end_saved = outcome_.checkpoints_saved > saved_before;
  }
}

void PromptCache::save(CachedRequest& request, std::span<const Token> path, CheckpointKind kind) {
  auto start = std::chrono::steady_clock::now();
  InsertOutcome result = store_->insert(path, model_.save_slot(request.slot_), kind);
  request.outcome_.save_seconds += seconds_since(start);
  if (result != InsertOutcome::stored) return;
  ++request.outcome_.checkpoints_saved;
  int64_t covered = std::min<int64_t>(static_cast<int64_t>(path.size()), request.outcome_.prompt_tokens);
  request.outcome_.created_tokens = std::max(request.outcome_.created_tokens, covered - request.outcome_.reused_tokens);
}

}  // namespace hearth::cache
