// Token sampler: penalties, then greedy or temperature sampling with top-k / top-p / min-p filters, over
// either the whole vocabulary or an `allowed` subset (constrained decoding).
#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_set>

#include "engine/sampling.h"
#include "util/error.h"

namespace hearth::engine {
namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

constexpr uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

using Candidate = TokenLogit;

// Penalties follow the usual conventions: repetition (CTRL) divides positive logits and multiplies
// negative ones; presence subtracts a constant once per distinct token already in the history.
void apply_penalties(std::vector<Candidate>& candidates, const SamplingParams& params, std::span<const Token> history) {
  if (history.empty() || (params.repetition_penalty == 1.0f && params.presence_penalty == 0.0f)) return;
  std::unordered_set<Token> seen(history.begin(), history.end());
  for (Candidate& c : candidates) {
    if (!seen.count(c.id)) continue;
    if (params.repetition_penalty != 1.0f && params.repetition_penalty > 0.0f) {
      c.logit = c.logit > 0 ? c.logit / params.repetition_penalty : c.logit * params.repetition_penalty;
    }
    c.logit -= params.presence_penalty;
  }
}

bool by_logit_desc(const Candidate& a, const Candidate& b) { return logit_before(a, b); }

std::vector<TokenLogit> token_candidates(std::span<const float> logits, const SamplingParams& params,
                                         std::span<const Token> history, std::span<const Token> allowed);

bool has_penalties(const SamplingParams& params, std::span<const Token> history) {
  return !history.empty() && (params.repetition_penalty != 1.0f || params.presence_penalty != 0.0f);
}

}  // namespace

Rng::Rng(uint64_t seed) {
  uint64_t state = seed;
  for (uint64_t& word : s_) word = splitmix64(state);
}

// xoshiro256**
uint64_t Rng::next_u64() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

float Rng::next_float() { return float(next_u64() >> 40) * (1.0f / 16777216.0f); }

bool samples_from_top_k(const SamplingParams& params, std::span<const Token> history, std::span<const Token> allowed,
                        int32_t max_k) {
  if (!allowed.empty() || has_penalties(params, history)) return false;
  return params.temperature <= 0.0f || (params.top_k > 0 && params.top_k <= max_k);
}

Token sample_next(const Model& model, SlotId slot, const SamplingParams& params, std::span<const Token> history,
                  std::span<const Token> allowed, Rng& rng) {
  return draw(next_candidates(model, slot, -1, params, history, allowed), params, rng);
}

std::vector<TokenLogit> next_candidates(const Model& model, SlotId slot, int32_t row, const SamplingParams& params,
                                        std::span<const Token> history, std::span<const Token> allowed) {
  if (!samples_from_top_k(params, history, allowed, kMaxTopLogits)) {
    return token_candidates(row < 0 ? model.slot_logits(slot) : model.slot_row_logits(slot, row), params, history, allowed);
  }
  const int32_t k = params.temperature <= 0.0f ? 1 : params.top_k;
  const int64_t vocab = model.info().vocab_size;
  const int64_t limit = params.vocab_limit > 0 ? std::min(params.vocab_limit, vocab) : vocab;
  std::vector<TokenLogit> candidates = row < 0 ? model.slot_top_logits(slot, k, limit) : model.slot_row_top_logits(slot, row, k, limit);
  if (candidates.empty()) throw Error("sample_next: the model gave no candidate token", ErrorKind::internal);
  if (params.temperature <= 0.0f) candidates.resize(1);
  return candidates;
}

Token sample_token(std::span<const float> logits, const SamplingParams& params, std::span<const Token> history,
                   std::span<const Token> allowed, Rng& rng) {
  return draw(token_candidates(logits, params, history, allowed), params, rng);
}

namespace {

std::vector<TokenLogit> token_candidates(std::span<const float> logits, const SamplingParams& params,
                                         std::span<const Token> history, std::span<const Token> allowed) {
  if (logits.empty()) throw Error("sample_token: empty logits", ErrorKind::internal);
  const float neg_inf = -std::numeric_limits<float>::infinity();
  auto clean = [&](float x) { return std::isnan(x) ? neg_inf : x; };

  // The ids that exist: the logits' rows, cut at the tokenizer's vocabulary when the embedding is padded.
  size_t vocab = logits.size();
  if (params.vocab_limit > 0) vocab = std::min(vocab, size_t(params.vocab_limit));

  // Greedy over the whole vocabulary: the best (the lowest id on ties), one pass, no candidate list.
  if (params.temperature <= 0.0f && allowed.empty() && !has_penalties(params, history)) return top_logits(logits, vocab, 1);

  std::vector<Candidate> candidates;
  const bool select_top_k = allowed.empty() && params.top_k > 0 && size_t(params.top_k) < vocab && !has_penalties(params, history);
  if (select_top_k) {
    candidates = top_logits(logits, vocab, size_t(params.top_k));
  } else if (allowed.empty()) {
    candidates.resize(vocab);
    for (size_t i = 0; i < vocab; ++i) candidates[i] = {Token(i), clean(logits[i])};
  } else {
    for (Token id : allowed) {
      if (id >= 0 && size_t(id) < vocab) candidates.push_back({id, clean(logits[size_t(id)])});
    }
    if (candidates.empty()) throw Error("sample_token: no allowed token is inside the vocabulary", ErrorKind::internal);
    std::sort(candidates.begin(), candidates.end(), [](auto& a, auto& b) { return a.id < b.id; });
    candidates.erase(std::unique(candidates.begin(), candidates.end(), [](auto& a, auto& b) { return a.id == b.id; }),
                     candidates.end());
  }
  apply_penalties(candidates, params, history);
  return candidates;
}

// draw()'s filters over candidates whose best is `best_logit`: leaves the kept candidates in
// `candidates` and their weights (the best's is 1) in `weights`; returns the weights' sum.
double filter(std::vector<TokenLogit>& candidates, std::vector<float>& weights, float best_logit, const SamplingParams& params) {
  // Top-k first: it bounds the work of everything after it. The kept candidates go best first, so the
  // draw below does not depend on how they were selected.
  if (params.top_k > 0 && size_t(params.top_k) < candidates.size()) {
    const size_t keep = size_t(params.top_k);
    std::nth_element(candidates.begin(), candidates.begin() + long(keep) - 1, candidates.end(), by_logit_desc);
    candidates.resize(keep);
    std::sort(candidates.begin(), candidates.end(), by_logit_desc);
  }
  const float max_logit = best_logit;  // still the maximum after top-k
  const float inv_t = 1.0f / params.temperature;
  weights.assign(candidates.size(), 0.0f);
  double total = 0;
  for (size_t i = 0; i < candidates.size(); ++i) {
    weights[i] = std::exp((candidates[i].logit - max_logit) * inv_t);
    total += weights[i];
  }

  // min-p: drop tokens whose probability is below min_p times the best one's (whose weight is 1).
  if (params.min_p > 0.0f) {
    size_t out = 0;
    for (size_t i = 0; i < candidates.size(); ++i) {
      if (weights[i] >= params.min_p) {
        candidates[out] = candidates[i];
        weights[out++] = weights[i];
      }
    }
    candidates.resize(out);
    weights.resize(out);
    total = 0;
    for (float w : weights) total += w;
  }

  // top-p: the smallest most-probable prefix reaching top_p of the mass. Sorting only a growing head
  // keeps this cheap for a 150k vocabulary, where the head nearly always suffices.
  if (params.top_p < 1.0f && params.top_p > 0.0f) {
    std::vector<size_t> order(candidates.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    auto heavier = [&](size_t a, size_t b) { return weights[a] > weights[b] || (weights[a] == weights[b] && candidates[a].id < candidates[b].id); };
    const double target = params.top_p * total;
    size_t head = std::min<size_t>(64, order.size());
    size_t cut = order.size();
    for (;;) {
      std::partial_sort(order.begin(), order.begin() + long(head), order.end(), heavier);
      double mass = 0;
      for (size_t i = 0; i < head; ++i) {
        mass += weights[order[i]];
        if (mass >= target) {
          cut = i + 1;
          break;
        }
      }
      if (cut != order.size() || head == order.size()) break;
      head = std::min(order.size(), head * 8);
    }
    std::vector<Candidate> kept_c;
    std::vector<float> kept_w;
    total = 0;
    for (size_t i = 0; i < cut; ++i) {
      kept_c.push_back(candidates[order[i]]);
      kept_w.push_back(weights[order[i]]);
      total += kept_w.back();
    }
    candidates = std::move(kept_c);
    weights = std::move(kept_w);
  }
  return total;
}

}  // namespace

Token draw(std::vector<TokenLogit> candidates, const SamplingParams& params, Rng& rng) {
  if (candidates.empty()) throw Error("sample_token: no candidate token", ErrorKind::internal);
  auto best = std::min_element(candidates.begin(), candidates.end(), by_logit_desc);
  // Greedy, and the degenerate case where nothing has finite weight: the best (lowest id on ties).
  if (params.temperature <= 0.0f || !std::isfinite(best->logit)) return best->id;
  std::vector<float> weights;
  const double total = filter(candidates, weights, best->logit, params);
  double r = double(rng.next_float()) * total;
  for (size_t i = 0; i < candidates.size(); ++i) {
    r -= weights[i];
    if (r < 0) return candidates[i].id;
  }
  return candidates.back().id;  // rounding left a sliver of mass at the end
}

std::vector<TokenProb> draw_distribution(std::vector<TokenLogit> candidates, const SamplingParams& params) {
  if (candidates.empty()) throw Error("sample_token: no candidate token", ErrorKind::internal);
  auto best = std::min_element(candidates.begin(), candidates.end(), by_logit_desc);
  if (params.temperature <= 0.0f || !std::isfinite(best->logit)) return {{best->id, 1.0}};
  std::vector<float> weights;
  const double total = filter(candidates, weights, best->logit, params);
  std::vector<TokenProb> out(candidates.size());
  for (size_t i = 0; i < candidates.size(); ++i) out[i] = {candidates[i].id, double(weights[i]) / total};
  return out;
}

Token pick(std::span<const TokenProb> distribution, Rng& rng) {
  if (distribution.empty()) throw Error("pick: an empty distribution", ErrorKind::internal);
  double r = double(rng.next_float());
  for (const TokenProb& t : distribution) {
    r -= t.p;
    if (r < 0) return t.id;
  }
  return distribution.back().id;  // rounding left a sliver of mass at the end
}

}  // namespace hearth::engine
