#pragma once
// The block plan of the Precision::fast prefill attention on cuBLAS (attention_cublas.cu), plain C++
// (tests/engine/attention_cublas_plan_test.cpp checks it on the CPU). The launcher: attention.h.
// Per KV head g and per block of query rows, for the `group` query heads h that share g:
//   1. S_h = scale · Q_h · K_gᵀ   one strided-batched TF32 GEMM over the group's heads (K_g shared)
//   2. P_h = causal softmax(S_h)  one block per score row, the weights written as bf16
//   3. O_h = P_h · V_g            one strided-batched bf16 GEMM (float32 accumulation), written straight
//                                 into the output; V is copied to bf16 once per call
// The scores need TF32's 10 mantissa bits (softmax turns an absolute score error into a relative weight
// error; bf16 scores cost ~0.4% of a weight), so Q and K are read in place as float32 through TF32
// tensor cores (CUBLAS_COMPUTE_32F_FAST_TF32, no conversion kernels). The weights and values only
// need bf16's relative 2^-9, as in every flash-attention kernel: writing P as bf16 halves the bytes of
// the two passes over it (the score traffic, not the arithmetic, bounds this path) and runs the second
// product at the bf16 rate. The scores and weights of one block live in the workspace; the block is
// sized so that they fit a fixed budget, which bounds the scratch whatever the prompt length, and small
// enough that the keys computed past the causal diagonal (then masked) stay a small share of the work.
#include <cstddef>
#include <cstdint>

namespace hearth::engine::cuda {

// Budget of one block's scores and weights (float32 + bf16 [group][rows][keys]) in production.
constexpr size_t kAttentionScoreBudgetBytes = size_t{512} << 20;
// At most this many query rows per block: past it, the product is already large enough to fill the
// GPU, and smaller blocks waste fewer keys past the causal diagonal (a block's last row sees the most).
constexpr int64_t kAttentionMaxBlockRows = 1024;
constexpr int64_t kAttentionBlockRowStep = 64;

// Score rows are padded to this many elements (128 bytes of scores, 64 of weights): 16-byte loads in
// the softmax, aligned rows for cuBLAS.
constexpr int64_t score_row_floats(int64_t keys) { return (keys + 31) / 32 * 32; }

constexpr size_t kAttentionBytesPerScore = sizeof(float) + 2;  // the float32 score and its bf16 weight

struct AttentionBlockPlan {
  int64_t rows = 0;       // query rows per block (a multiple of kAttentionBlockRowStep)
  int64_t row_floats = 0; // padded score row length, sized for the last block (the most keys)
  size_t score_bytes = 0; // one block's scores and weights (kAttentionBytesPerScore each)
};

// The block plan for n queries after first_position cached ones and `group` query heads per KV head:
// the most rows (a multiple of 64, at least 64, at most kAttentionMaxBlockRows and no more than n
// needs) whose scores fit the budget. With a budget too small even for 64 rows, 64 rows it is (the
// workspace then exceeds the budget; score_bytes says by how much).
constexpr AttentionBlockPlan plan_attention_blocks(int64_t n, int64_t first_position, int group, size_t budget_bytes) {
  AttentionBlockPlan p;
  p.row_floats = score_row_floats(first_position + n);
  const int64_t per_row = static_cast<int64_t>(group) * p.row_floats * static_cast<int64_t>(kAttentionBytesPerScore);
  int64_t rows = static_cast<int64_t>(budget_bytes) / (per_row > 0 ? per_row : 1);
  rows = rows / kAttentionBlockRowStep * kAttentionBlockRowStep;
  const int64_t needed = (n + kAttentionBlockRowStep - 1) / kAttentionBlockRowStep * kAttentionBlockRowStep;
  if (rows > kAttentionMaxBlockRows) rows = kAttentionMaxBlockRows;
  if (rows > needed) rows = needed;
  if (rows < kAttentionBlockRowStep) rows = kAttentionBlockRowStep;
  p.rows = rows;
  p.score_bytes = static_cast<size_t>(rows * per_row);
  return p;
}

// Keys the rows [row0, row0 + rows) of a block see together: the causal prefix of its last row.
constexpr int64_t attention_block_keys(int64_t first_position, int64_t row0, int64_t rows) {
  return first_position + row0 + rows;
}

}  // namespace hearth::engine::cuda
