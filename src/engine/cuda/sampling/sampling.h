#pragma once
// sampling/: the launcher header of the sampling kernels.
//
// The best k logits of one row on the device (Ops::top_logits): two launches — the best k of each 4096-id
// chunk, then the best k of those — so that only k (id, logit) pairs are downloaded instead of the row.
// Candidates are compared as 64-bit keys (an order-preserving code of the logit above the complement of
// the id), so the largest key is the larger logit and, on ties, the lower id: engine/top_logits.h's order.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace hearth::engine::cuda {

struct TopLogitsLaunch {
  const float* logits = nullptr;  // one row
  int64_t limit = 0;              // ids [0, limit) compete
  int k = 1;                      // 1..64
  uint64_t* workspace = nullptr;  // top_logits_workspace_words(limit, k) words
  uint64_t* out = nullptr;        // k keys, best first; 0 where fewer than k ids compete
};

// Whether the two-pass form covers `limit` ids at this k (the second pass holds every chunk's k keys
// in shared memory); otherwise the caller selects on the host.
bool top_logits_supports(int64_t limit, int k);
size_t top_logits_workspace_words(int64_t limit, int k);
void launch_top_logits(const TopLogitsLaunch& p, cudaStream_t stream);

// A key back to its id and logit (host side).
void decode_top_logit_key(uint64_t key, int32_t& id, float& logit);

}  // namespace hearth::engine::cuda
