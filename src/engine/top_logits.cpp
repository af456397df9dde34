// The k best logits of a row on the host (engine/top_logits.h).
#include "engine/top_logits.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace hearth::engine {

std::vector<TokenLogit> top_logits(std::span<const float> logits, size_t limit, size_t k) {
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
