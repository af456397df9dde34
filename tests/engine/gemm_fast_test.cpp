// The index arithmetic of the fast (bf16 copy + cuBLAS) prefill GEMM, on the CPU: the functions the
// conversion kernels and the launcher share (engine/cuda/gemm/gemm.h). No GPU needed.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "engine/cuda/cublas_library.h"
#include "engine/cuda/gemm/gemm.h"

namespace hearth::engine::cuda {
namespace {

TEST(FastGemmIndex, PaddedColumnsAreTheNextMultipleOfEight) {
  EXPECT_EQ(bf16_padded_cols(0), 0);
  EXPECT_EQ(bf16_padded_cols(1), 8);
  EXPECT_EQ(bf16_padded_cols(8), 8);
  EXPECT_EQ(bf16_padded_cols(77), 80);
  EXPECT_EQ(bf16_padded_cols(2048), 2048);
  EXPECT_EQ(bf16_padded_cols(5121), 5128);
}

TEST(FastGemmIndex, ConversionThreadsCoverEveryElementOfThePaddedCopyExactlyOnce) {
  for (const int64_t cols : {int64_t{1}, int64_t{77}, int64_t{80}, int64_t{256}}) {
    const int64_t n = 5, padded = bf16_padded_cols(cols);
    std::vector<int> seen(static_cast<size_t>(n * padded), 0);
    for (int64_t t = 0; t < n * (padded / 8); ++t) {
      const Bf16CopyIndex at = activation_group(t, padded);
      ASSERT_GE(at.row, 0);
      ASSERT_LT(at.row, n);
      ASSERT_EQ(at.col % 8, 0);  // 16-byte aligned stores
      ASSERT_LE(at.col + 8, padded);
      for (int64_t e = 0; e < 8; ++e) ++seen[static_cast<size_t>(at.row * padded + at.col + e)];
    }
    for (int v : seen) ASSERT_EQ(v, 1) << "cols " << cols;
  }
}

TEST(FastGemmIndex, WeightBlocksAreWholeMatricesWhenTheyFitAndBoundedMultiplesOf128Otherwise) {
  // Qwen3.6-27B's largest dense matrix fits in one block.
  EXPECT_EQ(bf16_weight_block_rows(17408, 5120), 17408);
  EXPECT_EQ(bf16_weight_block_rows(100, 77), 100);
  // A vocabulary-sized matrix does not: blocks of a multiple of 128 rows within the cap.
  for (const auto& [rows, cols] : {std::pair<int64_t, int64_t>{248320, 5120}, {248320, 2048}, {1000000, 1000}}) {
    const int64_t block = bf16_weight_block_rows(rows, cols);
    EXPECT_LT(block, rows);
    EXPECT_EQ(block % 128, 0);
    EXPECT_LE(static_cast<size_t>(block) * 2 * static_cast<size_t>(bf16_padded_cols(cols)), kMaxBf16WeightScratchBytes);
    EXPECT_GT(static_cast<size_t>(block + 128) * 2 * static_cast<size_t>(bf16_padded_cols(cols)),
              kMaxBf16WeightScratchBytes);  // as large as the cap allows
  }
  // Rows wider than the cap / 128 still get 128-row blocks (never zero).
  EXPECT_EQ(bf16_weight_block_rows(1000, int64_t{4} << 20), 128);
}

TEST(FastGemmIndex, WorkspaceHoldsCublasScratchTheActivationsAndOneWeightBlock) {
  const int64_t rows = 248320, cols = 2048, n = 1024;
  const size_t need = kCublasWorkspaceBytes + 2 * static_cast<size_t>(n * cols) +
                      2 * static_cast<size_t>(bf16_weight_block_rows(rows, cols) * cols);
  EXPECT_GE(fast_gemm_workspace_bytes(rows, cols, n), need);
  EXPECT_LT(fast_gemm_workspace_bytes(rows, cols, n), need + 1024);  // only alignment on top
}

// cuBLAS is loaded at run time; where the CUDA toolkit that built this test is installed, every entry
// point the fast GEMM calls resolves (no GPU needed to load the library).
TEST(CublasLibrary, LoadsEveryFunctionTheFastGemmCalls) {
  const CublasLibrary& lib = cublas_library();
  EXPECT_NE(lib.create, nullptr);
  EXPECT_NE(lib.destroy, nullptr);
  EXPECT_NE(lib.set_stream, nullptr);
  EXPECT_NE(lib.set_workspace, nullptr);
  EXPECT_NE(lib.gemm_ex, nullptr);
  ASSERT_NE(lib.status_string, nullptr);
  EXPECT_STRNE(lib.status_string(CUBLAS_STATUS_NOT_SUPPORTED), "");
  EXPECT_EQ(&lib, &cublas_library());  // loaded once
}

}  // namespace
}  // namespace hearth::engine::cuda
