#pragma once
// The k best logits of a row: what sampling needs when it keeps only the top k tokens (greedy: k = 1).
// A device backend selects them where the logits are (Ops::top_logits) so that only k pairs cross the
// bus instead of the whole row (1 MB for a 248k vocabulary); this host version is the reference and the
// fallback, and the sampler's own selection.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace hearth::engine {

using Token = int32_t;

struct TokenLogit {
  Token id = 0;
  float logit = 0;
  bool operator==(const TokenLogit&) const = default;
};

// The order every selection uses: the larger logit first, the lower id on ties (NaN counts as -inf).
inline bool logit_before(const TokenLogit& a, const TokenLogit& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

// The min(k, limit) best of logits[0, limit) in logit_before order, best first (limit is cut at the
// row's size); NaN logits are returned as -inf. Header-only: the model seam's default uses it, and
// every library that implements a Model sees the seam but not the engine's libraries.
inline std::vector<TokenLogit> top_logits(std::span<const float> logits, size_t limit, size_t k) {
  const float neg_inf = -std::numeric_limits<float>::infinity();
  limit = std::min(limit, logits.size());
  k = std::min(k, limit);
  // One pass with a bounded heap whose front is the worst kept entry: most logits lose one comparison.
  std::vector<TokenLogit> heap;
  heap.reserve(k);
  if (k == 0) return heap;
  for (size_t i = 0; i < limit; ++i) {
    const TokenLogit c{Token(i), std::isnan(logits[i]) ? neg_inf : logits[i]};
    if (heap.size() < k) {
      heap.push_back(c);
      std::push_heap(heap.begin(), heap.end(), logit_before);
    } else if (logit_before(c, heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), logit_before);
      heap.back() = c;
      std::push_heap(heap.begin(), heap.end(), logit_before);
    }
  }
  std::sort(heap.begin(), heap.end(), logit_before);
  return heap;
}

}  // namespace hearth::engine
