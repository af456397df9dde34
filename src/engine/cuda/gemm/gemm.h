#pragma once
// Launchers of the prefill matrix products (n > kMatvecMaxTokens), and launch_matmul, the matmul op's
// split between this family and matvec/.
//
// Precision::fast prefill products on plain (dense-layer) weight matrices: the weight matrix is
// dequantised into a bf16 copy and the activations converted to bf16, both in workspace scratch, then
// cuBLAS multiplies them on the tensor cores with float32 accumulation. The dequantisation reads the
// stored matrix once per call (bandwidth-bound, ~2 bytes written per element); at prefill sizes that is
// small beside the product, which then runs at cuBLAS's bf16 rate instead of our split-bf16 WMMA kernel.
// Below kCublasMinTokens rows the bf16 copy would cost more than it saves, so those products run the
// in-tile dequantising kernel with one bf16 MMA per product instead.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "engine/cuda/common/types.h"

struct cublasContext;  // cublasHandle_t is cublasContext*

namespace hearth::engine::cuda {

// y (=|+=) x · Wᵀ: launch_matvec (matvec/matvec.h) for n <= kMatvecMaxTokens, else launch_gemm
// (kernel_support.cpp). CudaOps::matmul routes Precision::fast prefill products to the cuBLAS path below.
void launch_matmul(const MatmulLaunch& p, cudaStream_t stream);
// The dequantising tensor-core GEMM (gemm.cu; float32-faithful, three bf16 MMAs per product).
void launch_gemm(const MatmulLaunch& p, cudaStream_t stream);

constexpr int64_t kCublasMinTokens = 32;
// cuBLAS's own scratch, handed to it explicitly (cublasSetWorkspace) from our workspace.
constexpr size_t kCublasWorkspaceBytes = size_t{32} << 20;
// The bf16 weight copy is made this many bytes at most at a time: larger matrices (a vocabulary-sized
// one) are multiplied in row blocks, so the scratch stays bounded whatever the model.
constexpr size_t kMaxBf16WeightScratchBytes = size_t{512} << 20;

// Columns of the bf16 copies: cols rounded up to 8 (16-byte rows, as cuBLAS's fast kernels want); the
// padding is written as zeros in both operands, so it adds nothing to the products.
constexpr int64_t bf16_padded_cols(int64_t cols) { return (cols + 7) / 8 * 8; }

// Weight rows dequantised per block for a [rows, cols] matrix (all of them when they fit the cap).
// Multiples of 128 keep cuBLAS tiles whole.
constexpr int64_t bf16_weight_block_rows(int64_t rows, int64_t cols) {
  const int64_t per_row = 2 * bf16_padded_cols(cols);
  int64_t block = static_cast<int64_t>(kMaxBf16WeightScratchBytes) / (per_row > 0 ? per_row : 1);
  block = block / 128 * 128;
  if (block < 128) block = 128;
  return block < rows ? block : rows;
}

// Workspace the fast GEMM needs for n activation rows times a [rows, cols] matrix.
size_t fast_gemm_workspace_bytes(int64_t rows, int64_t cols, int64_t n);

struct FastGemmLaunch {
  MatmulLaunch m;  // n > kMatvecMaxTokens
  cublasContext* cublas = nullptr;  // bound to `stream` by the caller
  void* workspace = nullptr;        // fast_gemm_workspace_bytes(), 256-byte aligned
};
void launch_gemm_fast(const FastGemmLaunch& p, cudaStream_t stream);

// The in-tile dequantising kernel with one bf16 MMA per product (small n in fast mode).
void launch_gemm_single_mma(const MatmulLaunch& p, cudaStream_t stream);

// Host-testable index arithmetic of the conversion kernels (also used by them).
struct Bf16CopyIndex {
  int64_t row = 0, col = 0;  // first element of the thread's 8-element group
};
// Thread t of the activation conversion handles elements [col, col + 8) of row `row` of the padded
// [n, padded_cols] bf16 copy.
constexpr Bf16CopyIndex activation_group(int64_t t, int64_t padded_cols) {
  const int64_t groups_per_row = padded_cols / 8;
  return {t / groups_per_row, (t % groups_per_row) * 8};
}

}  // namespace hearth::engine::cuda
