#pragma once
// A full-attention layer's work between its q/k/v projections and attention, in ONE kernel
// (engine/ops.h AttentionPrepArgs): split query/gate, per-head RMSNorm of q and k, RoPE (rotate-half)
// on both, k and v appended to the cache rows at the position (read from dev_position when set, so a
// recorded decode step replays at any position).
#include <cuda_runtime_api.h>

#include <cstdint>

namespace hearth::engine::cuda {

struct AttentionPrepLaunch {
  const float* q_proj = nullptr;  // [n, heads · head_dim · (gated ? 2 : 1)]
  int64_t q_proj_stride = 0;
  bool gated = false;
  float* k = nullptr;  // [n, kv_heads · head_dim], normed and rotated in place
  int64_t k_stride = 0;
  const float* v = nullptr;
  int64_t v_stride = 0;
  const float* q_norm = nullptr;
  const float* k_norm = nullptr;
  float eps = 1e-6f;
  int64_t n = 0;
  int heads = 0, kv_heads = 0, head_dim = 0, rotary_dim = 0;
  float theta = 10000.0f;
  int64_t first_position = 0;
  const int64_t* dev_position = nullptr;
  float* k_cache = nullptr;
  float* v_cache = nullptr;
  int64_t cache_stride = 0;  // k and v caches share it
  float* q = nullptr;  // out [n, heads · head_dim]
  int64_t q_stride = 0;
  float* gate = nullptr;  // out when gated
  int64_t gate_stride = 0;
};

// One warp per (token, head item); per token the items are the query heads, then the key heads, then
// the value heads.
enum class PrepItemKind { query, key, value };
struct PrepItem {
  int64_t token = 0;
  PrepItemKind kind = PrepItemKind::query;
  int head = 0;
};
__host__ __device__ constexpr int64_t attention_prep_items(int64_t n, int heads, int kv_heads) {
  return n * (heads + 2 * kv_heads);
}
__host__ __device__ constexpr PrepItem attention_prep_item(int64_t item, int heads, int kv_heads) {
  const int64_t per_token = heads + 2 * kv_heads;
  const int64_t t = item / per_token;
  const int r = static_cast<int>(item - t * per_token);
  if (r < heads) return {t, PrepItemKind::query, r};
  if (r < heads + kv_heads) return {t, PrepItemKind::key, r - heads};
  return {t, PrepItemKind::value, r - heads - kv_heads};
}

void launch_attention_prep(const AttentionPrepLaunch& p, cudaStream_t stream);

}  // namespace hearth::engine::cuda
