// Plain (one weight matrix) launches of the dequantising tensor-core GEMM (gemm_kernel.cuh), used for
// prefill batches larger than the matrix-vector kernel's: three bf16 MMAs per product (Precision::exact)
// or one (Precision::fast, batches too small for the cuBLAS path of gemm_cublas.cu).
#include <cstdint>

#include "engine/cuda/common/cuda_check.h"
#include "engine/cuda/common/launch.cuh"
#include "engine/cuda/gemm/gemm.h"
#include "engine/cuda/gemm/gemm_kernel.cuh"

namespace hearth::engine::cuda {
namespace {

template <bool SPLIT>
void launch_plain_gemm(const MatmulLaunch& p, cudaStream_t stream) {
  GemmParams g;
  g.w = to_dev_weight(p.w);
  g.x = p.x;
  g.x_stride = p.x_stride;
  g.y = p.y;
  g.y_stride = p.y_stride;
  g.m = p.n;
  g.accumulate = p.accumulate ? 1 : 0;
  g.x_vec4 = (reinterpret_cast<uintptr_t>(p.x) % 16 == 0 && p.x_stride % 4 == 0 && p.w.cols % 4 == 0) ? 1 : 0;
  const dim3 grid(static_cast<unsigned>((p.w.rows + kGemmBN - 1) / kGemmBN),
                  static_cast<unsigned>((p.n + kGemmBM - 1) / kGemmBM));
  switch (pick_codec(p.w)) {
    case Codec::affine4: launch_pdl(kernel_gemm<Codec::affine4, false, SPLIT>, grid, kGemmThreads, 0, stream, g); break;
    case Codec::affine8: launch_pdl(kernel_gemm<Codec::affine8, false, SPLIT>, grid, kGemmThreads, 0, stream, g); break;
    case Codec::fp4: launch_pdl(kernel_gemm<Codec::fp4, false, SPLIT>, grid, kGemmThreads, 0, stream, g); break;
    case Codec::bf16: launch_pdl(kernel_gemm<Codec::bf16, false, SPLIT>, grid, kGemmThreads, 0, stream, g); break;
    case Codec::generic: launch_pdl(kernel_gemm<Codec::generic, false, SPLIT>, grid, kGemmThreads, 0, stream, g); break;
  }
  HEARTH_CUDA_LAUNCH_CHECK();
}

}  // namespace

void launch_gemm(const MatmulLaunch& p, cudaStream_t stream) { launch_plain_gemm<true>(p, stream); }

void launch_gemm_single_mma(const MatmulLaunch& p, cudaStream_t stream) {
  if (p.n <= 0 || p.w.rows <= 0) return;
  launch_plain_gemm<false>(p, stream);
}

}  // namespace hearth::engine::cuda
