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
    : model_(model), config_(std::move(config)), store_(std::make_unique<CheckpointStore>(model, config_.store)) {}

CachedRequest PromptCache::begin(std::span<const Token> prompt, const PromptLayout& layout) {
  CachedRequest request;
  request.cache_ = this;
  request.prompt_.assign(prompt.begin(), prompt.end());
  CacheOutcome& outcome = request.outcome_;
  outcome.enabled = config_.enabled;
  outcome.prompt_tokens = static_cast<int64_t>(prompt.size());
  bool live_valid = live_valid_;
  live_valid_ = false;  // until finish() says what the model holds
  if (!config_.enabled || prompt.empty()) {
    model_.reset();
    return request;
  }

  // At least one prompt token is always prefilled: sampling needs the logits after the last one.
  int64_t max_position = static_cast<int64_t>(prompt.size()) - 1;
  std::optional<FoundCheckpoint> found = store_->find(prompt, max_position);
  int64_t live_length = -1;
  if (live_valid && !live_.empty() && static_cast<int64_t>(live_.size()) <= max_position &&
      model_.position() == static_cast<int64_t>(live_.size()) &&
      std::equal(live_.begin(), live_.end(), prompt.begin())) {
    live_length = static_cast<int64_t>(live_.size());
  }
  if (live_length > 0 && live_length >= (found ? found->position : 0)) {
    outcome.source = ResumeSource::live_sequence;
    outcome.reused_tokens = live_length;
  } else if (found) {
    auto start = std::chrono::steady_clock::now();
    model_.restore_state(*found->snapshot);
    outcome.restore_seconds = seconds_since(start);
    outcome.source = source_for(found->tier);
    outcome.reused_tokens = found->position;
    outcome.checkpoint_position = found->position;
  } else {
    model_.reset();
  }
  if (model_.position() != outcome.reused_tokens) {
    throw Error("prompt cache: the model is at position " + std::to_string(model_.position()) + " after resuming at " +
                    std::to_string(outcome.reused_tokens),
                ErrorKind::internal);
  }

  for (const PlannedCheckpoint& planned : plan_checkpoints(layout, outcome.reused_tokens, config_.plan)) {
    if (store_->contains(prompt.first(static_cast<size_t>(planned.position)))) continue;
    request.plan_.push_back(planned);
    request.positions_.push_back(planned.position);
  }
  return request;
}

void CachedRequest::at_checkpoint(int64_t position) {
  auto it = std::find_if(plan_.begin(), plan_.end(), [&](const PlannedCheckpoint& p) { return p.position == position; });
  if (it == plan_.end() || cache_->model_.position() != position) {
    throw Error("prompt cache: checkpoint at position " + std::to_string(position) + " was not planned or the model is at " +
                    std::to_string(cache_->model_.position()),
                ErrorKind::internal);
  }
  cache_->save(*this, std::span<const Token>(prompt_).first(static_cast<size_t>(position)), it->kind);
}

void CachedRequest::finish(std::span<const Token> generated, const GenerationEnd& end) {
  engine::Model& model = cache_->model_;
  const int64_t held = model.position();
  const int64_t prompt_size = static_cast<int64_t>(prompt_.size());
  if (held < prompt_size || held > prompt_size + static_cast<int64_t>(generated.size())) {
    return;  // the model holds something this request cannot name: the live sequence stays unknown
  }
  std::vector<Token>& live = cache_->live_;
  live = prompt_;
  live.insert(live.end(), generated.begin(), generated.begin() + (held - prompt_size));
  cache_->live_valid_ = true;
  if (outcome_.enabled && held > prompt_size && generation_end_worth_saving(end)) {
    int saved_before = outcome_.checkpoints_saved;
    cache_->save(*this, live, CheckpointKind::generation_end);
    outcome_.generation_end_saved = outcome_.checkpoints_saved > saved_before;
  }
}

void PromptCache::save(CachedRequest& request, std::span<const Token> path, CheckpointKind kind) {
  auto start = std::chrono::steady_clock::now();
  InsertOutcome result = store_->insert(path, model_.save_state(), kind);
  request.outcome_.save_seconds += seconds_since(start);
  if (result != InsertOutcome::stored) return;
  ++request.outcome_.checkpoints_saved;
  int64_t covered = std::min<int64_t>(static_cast<int64_t>(path.size()), request.outcome_.prompt_tokens);
  request.outcome_.created_tokens = std::max(request.outcome_.created_tokens, covered - request.outcome_.reused_tokens);
}

}  // namespace hearth::cache
