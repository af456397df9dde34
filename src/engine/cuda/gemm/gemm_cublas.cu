// Precision::fast dense prefill GEMM (gemm.h): dequantise the weight matrix to bf16, convert the
// activations to bf16, multiply with cuBLAS (bf16 operands, float32 accumulation and output).
#include <cuda_bf16.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "engine/cuda/cublas_library.h"
#include "engine/cuda/common/cuda_check.h"
#include "engine/cuda/common/device_weights.cuh"
#include "engine/cuda/gemm/gemm.h"
#include "engine/cuda/common/launch.cuh"

namespace hearth::engine::cuda {
namespace {

constexpr int kConvertThreads = 256;

size_t align256(size_t v) { return (v + 255) / 256 * 256; }

__device__ __forceinline__ uint32_t pack_bf16x2(float a, float b) {
  const __nv_bfloat162 h = __floats2bfloat162_rn(a, b);
  return *reinterpret_cast<const uint32_t*>(&h);
}
__device__ __forceinline__ uint4 pack_bf16x8(const float* v) {
  return make_uint4(pack_bf16x2(v[0], v[1]), pack_bf16x2(v[2], v[3]), pack_bf16x2(v[4], v[5]), pack_bf16x2(v[6], v[7]));
}

// Fast codecs (cols % 32 == 0, so the copy has no padding): one thread per 32-element chunk; the threads
// of a warp read consecutive chunks of a row (coalesced 16-byte loads) and write 64 contiguous bytes each.
template <Codec C>
__global__ void kernel_dequant_bf16(const DevWeight w, int64_t row0, int64_t rows, uint16_t* out) {
  pdl_begin();  // launch.cuh: wait for the previous kernel before touching memory
  const int64_t chunks = w.cols / 32;
  const int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= rows * chunks) return;
  const int64_t r = t / chunks, c = t % chunks;
  float v[32];
  decode_chunk<C>(w, row0 + r, c, v);
  uint4* dst = reinterpret_cast<uint4*>(out + r * w.cols + c * 32);
#pragma unroll
  for (int i = 0; i < 4; ++i) dst[i] = pack_bf16x8(v + 8 * i);
}

// Any format and width: one thread per 8 elements of the padded copy, element by element; columns
// past w.cols are zero.
__global__ void kernel_dequant_bf16_generic(const DevWeight w, int64_t row0, int64_t rows, int64_t padded_cols,
                                            uint16_t* out) {
  pdl_begin();
  const int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= rows * (padded_cols / 8)) return;
  const Bf16CopyIndex at = activation_group(t, padded_cols);
  float v[8];
#pragma unroll 1
  for (int e = 0; e < 8; ++e) v[e] = at.col + e < w.cols ? dev_weight_element(w, row0 + at.row, at.col + e) : 0.0f;
  *reinterpret_cast<uint4*>(out + at.row * padded_cols + at.col) = pack_bf16x8(v);
}

// Activations float32 [n, cols] (row stride x_stride) → bf16 [n, padded_cols], zero padding. With `up`
// (MatmulLaunch::swiglu_up) each element is silu(x) · up instead, in float32 before the rounding.
__global__ void kernel_activations_bf16(const float* x, int64_t x_stride, const float* up, int64_t up_stride, int64_t n,
                                        int64_t cols, int64_t padded_cols, uint16_t* out) {
  pdl_begin();
  const int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= n * (padded_cols / 8)) return;
  const Bf16CopyIndex at = activation_group(t, padded_cols);
  const float* src = x + at.row * x_stride;
  float v[8];
#pragma unroll
  for (int e = 0; e < 8; ++e) v[e] = at.col + e < cols ? src[at.col + e] : 0.0f;
  if (up) {
    const float* u = up + at.row * up_stride;
#pragma unroll
    for (int e = 0; e < 8; ++e) v[e] = at.col + e < cols ? v[e] / (1.0f + expf(-v[e])) * u[at.col + e] : 0.0f;
  }
  *reinterpret_cast<uint4*>(out + at.row * padded_cols + at.col) = pack_bf16x8(v);
}

unsigned blocks_for(int64_t threads) {
  return static_cast<unsigned>((threads + kConvertThreads - 1) / kConvertThreads);
}

void dequantise_rows(const WeightMatrix& w, int64_t row0, int64_t rows, uint16_t* out, cudaStream_t stream) {
  const DevWeight d = to_dev_weight(w);
  const Codec codec = pick_codec(w);
  if (codec == Codec::generic) {
    const int64_t padded = bf16_padded_cols(w.cols);
    launch_pdl(kernel_dequant_bf16_generic, blocks_for(rows * (padded / 8)), kConvertThreads, 0, stream, d, row0, rows,
               padded, out);
  } else {
    const unsigned grid = blocks_for(rows * (w.cols / 32));
    switch (codec) {
      case Codec::affine4: launch_pdl(kernel_dequant_bf16<Codec::affine4>, grid, kConvertThreads, 0, stream, d, row0, rows, out); break;
      case Codec::affine8: launch_pdl(kernel_dequant_bf16<Codec::affine8>, grid, kConvertThreads, 0, stream, d, row0, rows, out); break;
      case Codec::fp4: launch_pdl(kernel_dequant_bf16<Codec::fp4>, grid, kConvertThreads, 0, stream, d, row0, rows, out); break;
      default: launch_pdl(kernel_dequant_bf16<Codec::bf16>, grid, kConvertThreads, 0, stream, d, row0, rows, out); break;
    }
  }
  HEARTH_CUDA_LAUNCH_CHECK();
}

void check_cublas(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw Error(std::string("cuBLAS ") + what + " failed: " + cublas_library().status_string(status));
}

struct Layout {
  size_t x = 0, w = 0, total = 0;
};

Layout layout_for(int64_t rows, int64_t cols, int64_t n) {
  const auto padded = static_cast<size_t>(bf16_padded_cols(cols));
  Layout l;
  l.x = kCublasWorkspaceBytes;
  l.w = l.x + align256(2 * static_cast<size_t>(n) * padded);
  l.total = l.w + align256(2 * static_cast<size_t>(bf16_weight_block_rows(rows, cols)) * padded);
  return l;
}

}  // namespace

size_t fast_gemm_workspace_bytes(int64_t rows, int64_t cols, int64_t n) { return layout_for(rows, cols, n).total; }

void launch_gemm_fast(const FastGemmLaunch& p, cudaStream_t stream) {
  const MatmulLaunch& m = p.m;
  if (m.n <= 0 || m.w.rows <= 0) return;
  if (m.w.cols == 0) {  // empty sums: y = 0 (or unchanged when accumulating); no zero-sized grids
    if (!m.accumulate)
      HEARTH_CUDA_CHECK(cudaMemset2DAsync(m.y, static_cast<size_t>(m.y_stride) * sizeof(float), 0,
                                          static_cast<size_t>(m.w.rows) * sizeof(float), static_cast<size_t>(m.n), stream));
    return;
  }
  const int64_t padded = bf16_padded_cols(m.w.cols);
  constexpr int64_t kIntMax = 2147483647;
  if (padded > kIntMax || m.n > kIntMax || m.y_stride > kIntMax || m.w.rows > kIntMax)
    throw Error("fast GEMM: a dimension exceeds cuBLAS's 32-bit sizes", ErrorKind::unsupported);
  const Layout l = layout_for(m.w.rows, m.w.cols, m.n);
  auto* ws = static_cast<uint8_t*>(p.workspace);
  auto* xb = reinterpret_cast<uint16_t*>(ws + l.x);
  auto* wb = reinterpret_cast<uint16_t*>(ws + l.w);

  launch_pdl(kernel_activations_bf16, blocks_for(m.n * (padded / 8)), kConvertThreads, 0, stream, m.x, m.x_stride,
             m.swiglu_up, m.up_stride, m.n, m.w.cols, padded, xb);
  HEARTH_CUDA_LAUNCH_CHECK();
  const CublasLibrary& cublas = cublas_library();
  check_cublas(cublas.set_workspace(p.cublas, ws, kCublasWorkspaceBytes), "cublasSetWorkspace");

  // Row-major Y[n][rows] is column-major Yᵀ [rows × n] (ld y_stride) = W · Xᵀ, where the row-major bf16
  // copies W [rows][padded] and X [n][padded] are column-major [padded × rows] and [padded × n]: so
  // op(A) = Aᵀ on the weight copy and op(B) = B on the activation copy.
  const float alpha = 1.0f, beta = m.accumulate ? 1.0f : 0.0f;
  const bool direct = pick_codec(m.w) == Codec::bf16;
  const int64_t block = direct ? m.w.rows : bf16_weight_block_rows(m.w.rows, m.w.cols);
  for (int64_t r0 = 0; r0 < m.w.rows; r0 += block) {
    const int64_t rb = std::min(block, m.w.rows - r0);
    // Stored bf16 rows (16-byte aligned, cols % 32 == 0) are already what cuBLAS reads: no copy.
    const void* a = direct ? static_cast<const void*>(static_cast<const uint16_t*>(m.w.data) + r0 * m.w.cols) : wb;
    if (!direct) dequantise_rows(m.w, r0, rb, wb, stream);
    check_cublas(cublas.gemm_ex(p.cublas, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(rb), static_cast<int>(m.n),
                              static_cast<int>(padded), &alpha, a, CUDA_R_16BF, static_cast<int>(padded), xb,
                              CUDA_R_16BF, static_cast<int>(padded), &beta, m.y + r0, CUDA_R_32F,
                              static_cast<int>(m.y_stride), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                 "cublasGemmEx");
  }
}

}  // namespace hearth::engine::cuda
