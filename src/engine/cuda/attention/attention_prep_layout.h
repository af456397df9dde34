#pragma once
// Work items of the attention prep kernel (attention_prep.cu, launcher in attention.h), plain C++ so
// that the CPU tests check the mapping (tests/engine/cuda_fused_layout_test.cpp).
#include <cstdint>

#include "engine/cuda/common/host_device.h"

namespace hearth::engine::cuda {

// One warp per (token, head item); per token the items are the query heads, then the key heads, then
// the value heads.
enum class PrepItemKind { query, key, value };
struct PrepItem {
  int64_t token = 0;
  PrepItemKind kind = PrepItemKind::query;
  int head = 0;
};
HEARTH_HOST_DEVICE constexpr int64_t attention_prep_items(int64_t n, int heads, int kv_heads) {
  return n * (heads + 2 * kv_heads);
}
HEARTH_HOST_DEVICE constexpr PrepItem attention_prep_item(int64_t item, int heads, int kv_heads) {
  const int64_t per_token = heads + 2 * kv_heads;
  const int64_t t = item / per_token;
  const int r = static_cast<int>(item - t * per_token);
  if (r < heads) return {t, PrepItemKind::query, r};
  if (r < heads + kv_heads) return {t, PrepItemKind::key, r - heads};
  return {t, PrepItemKind::value, r - heads - kv_heads};
}

}  // namespace hearth::engine::cuda
