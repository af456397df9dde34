// Index mappings of the fused CUDA kernels (__host__ __device__ functions): CPU tests, no GPU needed.
#include <gtest/gtest.h>

#include <vector>

#include "engine/cuda/attention/attention_prep_layout.h"
#include "engine/cuda/delta/delta_decode_layout.h"

namespace hearth::engine::cuda {
namespace {

TEST(CudaDeltaDecodeLayout, ClusterSizeAndBlockMappingCoverEveryValueHeadColumnOnce) {
  for (int dv : {8, 32, 40, 128}) {
    for (int ratio : {1, 2, 3}) {
      const int blocks = delta_decode_cluster_size(2, 2 * ratio, dv);
      EXPECT_EQ(blocks, ratio * ((dv + 31) / 32));
      std::vector<int> seen(static_cast<size_t>(ratio * dv), 0);
      for (int x = 0; x < blocks; ++x) {
        const DeltaDecodeBlock b = delta_decode_block(x, dv);
        for (int c = 0; c < 32; ++c) {
          const int col = b.column_block * 32 + c;
          if (col < dv) ++seen[static_cast<size_t>(b.value_in_key * dv + col)];
        }
      }
      for (int v : seen) EXPECT_EQ(v, 1) << "dv " << dv << " ratio " << ratio;
    }
  }
}

TEST(CudaAttentionPrepLayout, ItemsCoverEveryQueryKeyAndValueHeadOfEveryTokenOnce) {
  const int64_t n = 3;
  const int heads = 5, kv_heads = 2;
  const int64_t items = attention_prep_items(n, heads, kv_heads);
  EXPECT_EQ(items, n * (heads + 2 * kv_heads));
  std::vector<int> query(static_cast<size_t>(n * heads)), key(static_cast<size_t>(n * kv_heads)), value(key.size());
  for (int64_t i = 0; i < items; ++i) {
    const PrepItem it = attention_prep_item(i, heads, kv_heads);
    ASSERT_GE(it.token, 0);
    ASSERT_LT(it.token, n);
    switch (it.kind) {
      case PrepItemKind::query: ASSERT_LT(it.head, heads); ++query[static_cast<size_t>(it.token * heads + it.head)]; break;
      case PrepItemKind::key: ASSERT_LT(it.head, kv_heads); ++key[static_cast<size_t>(it.token * kv_heads + it.head)]; break;
      case PrepItemKind::value: ASSERT_LT(it.head, kv_heads); ++value[static_cast<size_t>(it.token * kv_heads + it.head)]; break;
    }
  }
  for (int v : query) EXPECT_EQ(v, 1);
  for (int v : key) EXPECT_EQ(v, 1);
  for (int v : value) EXPECT_EQ(v, 1);
}

}  // namespace
}  // namespace hearth::engine::cuda
