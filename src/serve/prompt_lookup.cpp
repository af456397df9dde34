#include "serve/prompt_lookup.h"

#include <algorithm>

#include "util/error.h"

namespace hearth::serve {

PromptLookupDrafter::PromptLookupDrafter(PromptLookupOptions options) : options_(options) {
  if (options_.min_ngram < 1 || options_.max_ngram < options_.min_ngram || options_.max_draft < 1 ||
      options_.min_draft < 1 || options_.min_draft > options_.max_draft) {
    throw Error("prompt lookup: need 1 <= min_ngram <= max_ngram and 1 <= min_draft <= max_draft", ErrorKind::invalid_request);
  }
  reset();
}

void PromptLookupDrafter::reset() {
  history_.clear();
  index_.assign(static_cast<size_t>(options_.max_ngram - options_.min_ngram + 1), {});
  restart_draft_length();
}

void PromptLookupDrafter::restart_draft_length() {
  draft_length_ = std::clamp(options_.initial_draft, options_.min_draft, options_.max_draft);
}

uint64_t PromptLookupDrafter::ngram_hash(size_t end, int n) const {
  uint64_t h = 0x9e3779b97f4a7c15ull * static_cast<uint64_t>(n);
  for (size_t i = end - static_cast<size_t>(n); i < end; ++i) {
    h ^= static_cast<uint32_t>(history_[i]);
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
  }
  return h;
}

bool PromptLookupDrafter::same_ngram(size_t end_a, size_t end_b, int n) const {
  return std::equal(history_.begin() + static_cast<std::ptrdiff_t>(end_a) - n, history_.begin() + static_cast<std::ptrdiff_t>(end_a),
                    history_.begin() + static_cast<std::ptrdiff_t>(end_b) - n);
}

void PromptLookupDrafter::append(std::span<const Token> tokens) {
  for (Token t : tokens) {
    // The n-grams ending at the current last token now have a follower (t, at position p).
    const size_t p = history_.size();
    history_.push_back(t);
    for (int n = options_.min_ngram; n <= options_.max_ngram && static_cast<size_t>(n) <= p; ++n) {
      index_[static_cast<size_t>(n - options_.min_ngram)][ngram_hash(p, n)] = static_cast<uint32_t>(p);
    }
  }
}

std::vector<PromptLookupDrafter::Token> PromptLookupDrafter::propose(int limit) const {
  std::vector<Token> draft;
  const int want = std::min(limit, draft_length_);
  const size_t end = history_.size();
  if (want <= 0) return draft;
  for (int n = options_.max_ngram; n >= options_.min_ngram; --n) {
    if (static_cast<size_t>(n) > end) continue;
    const auto& index = index_[static_cast<size_t>(n - options_.min_ngram)];
    const auto it = index.find(ngram_hash(end, n));
    if (it == index.end()) continue;
    const size_t follower = it->second;          // the earlier occurrence ends just before `follower`
    if (!same_ngram(follower, end, n)) continue;  // a hash collision
    const size_t stop = std::min(end, follower + static_cast<size_t>(want));
    draft.assign(history_.begin() + static_cast<std::ptrdiff_t>(follower), history_.begin() + static_cast<std::ptrdiff_t>(stop));
    return draft;
  }
  return draft;
}

void PromptLookupDrafter::feedback(int proposed, int accepted) {
  if (proposed <= 0) return;
  if (accepted >= proposed) {
    draft_length_ = std::min(options_.max_draft, draft_length_ * 2);
  } else if (accepted == 0) {
    draft_length_ = std::max(options_.min_draft, draft_length_ / 2);
  } else {
    draft_length_ = std::clamp(accepted + 1, options_.min_draft, options_.max_draft);
  }
}

}  // namespace hearth::serve
