// The block plan of the fast prefill attention (attention_cublas_plan.h), on the CPU: every block's scores
// fit the buffer the plan sizes, blocks are whole multiples of 64 rows, the budget is respected
// whenever 64 rows fit it, the blocks cover the queries exactly once, and the workspace holds scratch,
// scores, weights and values.
#include <gtest/gtest.h>

#include "engine/cuda/attention/attention.h"
#include "engine/cuda/gemm/gemm.h"

namespace hearth::engine::cuda {
namespace {

TEST(AttentionCublasPlan, ScoreRowsArePaddedTo32Floats) {
  EXPECT_EQ(score_row_floats(1), 32);
  EXPECT_EQ(score_row_floats(32), 32);
  EXPECT_EQ(score_row_floats(33), 64);
  EXPECT_EQ(score_row_floats(8192), 8192);
}

TEST(AttentionCublasPlan, ModelShapesUseFullBlocksWithinTheBudget) {
  // 35B-A3B (8 query heads per KV head), 4096 queries after 4096: 1024-row blocks, 8192-key rows.
  const AttentionBlockPlan a = plan_attention_blocks(4096, 4096, 8, kAttentionScoreBudgetBytes);
  EXPECT_EQ(a.rows, kAttentionMaxBlockRows);
  EXPECT_EQ(a.row_floats, 8192);
  EXPECT_EQ(a.score_bytes, size_t{8} * 1024 * 8192 * (4 + 2));
  EXPECT_LE(a.score_bytes, kAttentionScoreBudgetBytes);
  // A long context shrinks the blocks to stay in budget.
  const AttentionBlockPlan b = plan_attention_blocks(4096, 50000, 8, kAttentionScoreBudgetBytes);
  EXPECT_LT(b.rows, kAttentionMaxBlockRows);
  EXPECT_EQ(b.rows % kAttentionBlockRowStep, 0);
  EXPECT_LE(b.score_bytes, kAttentionScoreBudgetBytes);
}

TEST(AttentionCublasPlan, FewQueriesGetOneBlockRoundedUpTo64Rows) {
  EXPECT_EQ(plan_attention_blocks(9, 0, 6, kAttentionScoreBudgetBytes).rows, 64);
  EXPECT_EQ(plan_attention_blocks(100, 50, 6, kAttentionScoreBudgetBytes).rows, 128);
}

TEST(AttentionCublasPlan, ABudgetBelow64RowsStillPlans64RowsAndSaysWhatTheyNeed) {
  const AttentionBlockPlan p = plan_attention_blocks(1000, 0, 4, 1024);
  EXPECT_EQ(p.rows, 64);
  EXPECT_EQ(p.score_bytes, size_t{64} * 4 * 1024 * (4 + 2));
}

TEST(AttentionCublasPlan, BlocksCoverTheQueriesOnceAndFitTheirBuffer) {
  for (const int group : {1, 3, 6, 8})
    for (const int64_t n : {9, 64, 65, 300, 1023, 4096, 5000})
      for (const int64_t first : {0, 1, 777})
        for (const size_t budget : {size_t{1} << 16, size_t{3} << 20, kAttentionScoreBudgetBytes}) {
          const AttentionBlockPlan p = plan_attention_blocks(n, first, group, budget);
          ASSERT_GE(p.rows, kAttentionBlockRowStep);
          ASSERT_EQ(p.rows % kAttentionBlockRowStep, 0);
          int64_t covered = 0;
          for (int64_t row0 = 0; row0 < n; row0 += p.rows) {
            const int64_t rows = std::min(p.rows, n - row0);
            const int64_t keys = attention_block_keys(first, row0, rows);
            ASSERT_LE(keys, p.row_floats) << "a block's rows outgrow the planned row length";
            ASSERT_EQ(keys, first + row0 + rows);  // the block's last query sees itself
            covered += rows;
          }
          ASSERT_EQ(covered, n);
          ASSERT_EQ(p.score_bytes, static_cast<size_t>(group * p.rows * p.row_floats) * kAttentionBytesPerScore);
          if (p.rows > kAttentionBlockRowStep) {
            ASSERT_LE(p.score_bytes, budget);
          }
          // cuBLAS's scratch, scores, weights and the bf16 values of every key, each 256-byte aligned.
          const auto align = [](size_t b) { return (b + 255) / 256 * 256; };
          const size_t scores = static_cast<size_t>(group * p.rows * p.row_floats);
          ASSERT_EQ(cublas_attention_workspace_bytes(group * 2, 2, 48, n, first, budget),
                    kCublasWorkspaceBytes + align(scores * 4) + align(scores * 2) +
                        align(static_cast<size_t>(first + n) * 2 * 48 * 2));
        }
}

}  // namespace
}  // namespace hearth::engine::cuda
