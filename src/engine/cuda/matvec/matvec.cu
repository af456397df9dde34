// Matrix-vector products for decode-sized batches (1..8 tokens): y (=|+=) x · Wᵀ reading W in its
// stored format. Each thread decodes whole 32-element chunks (one 16-byte load for the 4-bit formats)
// in registers and dots them with the token vectors staged in shared memory; a row's chunks are spread
// over several threads (row_reduce.cuh) and a thread works on UNROLL rows at once, so small matrices
// still fill the GPU and large ones keep enough loads in flight. W is read exactly once per call.
//
// Bytes: rows · row_bytes (+ scales) of W, n·cols·4 of x per block (from L2), n·rows·4 of y.
#include <algorithm>

#include "engine/cuda/common/cuda_check.h"
#include "engine/cuda/common/launch.cuh"
#include "engine/cuda/common/matvec_common.cuh"
#include "engine/cuda/common/row_reduce.cuh"
#include "engine/cuda/common/smem_attr.h"
#include "engine/cuda/matvec/matvec.h"
#include "engine/cuda/matvec/matvec_check.h"
#include "engine/cuda/matvec/matvec_variants.h"

namespace hearth::engine::cuda {
namespace {

// Shared memory for staged x per block: 3 blocks of 72 KB still fit an SM (227 KB).
constexpr size_t kStageBudget = 72 * 1024;

struct MatvecParams {
  DevWeight w;
  const float* x;  // token 0, column chunk_begin·32
  int64_t x_stride;
  float* y;
  int64_t y_stride;
  int n;  // tokens (<= NT)
  int64_t chunk_begin, chunk_count;
  int tpr;  // threads per row
  int accumulate;
};

template <Codec C, int NT, int UNROLL>
__global__ void __launch_bounds__(kRowThreads) kernel_matvec(const MatvecParams p) {
  pdl_begin();  // launch.cuh: wait for the previous kernel before touching memory
  extern __shared__ float4 xs[];
  __shared__ float scratch[kRowThreads / 32];
  const int64_t cc = p.chunk_count;
  const int64_t per = cc * 8;
  stage_vectors(xs, p.x, p.x_stride, p.n, cc, p.w.cols - p.chunk_begin * 32);
  __syncthreads();

  const int tpr = p.tpr, rows_per_pass = kRowThreads / tpr;
  const int sub = threadIdx.x & (tpr - 1), slot = threadIdx.x / tpr;
  const int64_t rows_per_block = static_cast<int64_t>(rows_per_pass) * UNROLL;
  for (int64_t base = static_cast<int64_t>(blockIdx.x) * rows_per_block; base < p.w.rows;
       base += static_cast<int64_t>(gridDim.x) * rows_per_block) {
    float acc[UNROLL][NT];
#pragma unroll
    for (int u = 0; u < UNROLL; ++u)
#pragma unroll
      for (int t = 0; t < NT; ++t) acc[u][t] = 0.0f;
    for (int64_t c = sub; c < cc; c += tpr) {
#pragma unroll
      for (int u = 0; u < UNROLL; ++u) {
        const int64_t r = base + u * rows_per_pass + slot;
        if (r < p.w.rows) {
          float wv[32];
          decode_chunk<C>(p.w, r, p.chunk_begin + c, wv);
#pragma unroll
          for (int t = 0; t < NT; ++t)
            if (t < p.n) acc[u][t] += dot_staged_chunk(wv, xs + t * per, c);
        }
      }
    }
#pragma unroll
    for (int u = 0; u < UNROLL; ++u) {
      const int64_t r = base + u * rows_per_pass + slot;
#pragma unroll
      for (int t = 0; t < NT; ++t) {
        if (t >= p.n) continue;  // block-uniform
        const float v = row_sum(acc[u][t], tpr, scratch);
        if (sub == 0 && r < p.w.rows) {
          float* dst = p.y + t * p.y_stride + r;
          *dst = p.accumulate ? *dst + v : v;
        }
      }
    }
  }
}

template <int NT, int UNROLL>
void launch_nt(Codec codec, const MatvecParams& params, cudaStream_t stream) {
  void (*kernel)(MatvecParams) = nullptr;
  switch (codec) {
    case Codec::affine4: kernel = kernel_matvec<Codec::affine4, NT, UNROLL>; break;
    case Codec::affine8: kernel = kernel_matvec<Codec::affine8, NT, UNROLL>; break;
    case Codec::fp4: kernel = kernel_matvec<Codec::fp4, NT, UNROLL>; break;
    case Codec::bf16: kernel = kernel_matvec<Codec::bf16, NT, UNROLL>; break;
    case Codec::generic: kernel = kernel_matvec<Codec::generic, NT, UNROLL>; break;
  }
  const size_t smem = static_cast<size_t>(params.n) * params.chunk_count * 32 * sizeof(float);
  ensure_dynamic_smem(reinterpret_cast<const void*>(kernel), smem);
  const int64_t rows_per_block = static_cast<int64_t>(kRowThreads / params.tpr) * UNROLL;
  const int64_t want = (params.w.rows + rows_per_block - 1) / rows_per_block;
  const int blocks = static_cast<int>(std::min<int64_t>(want, int64_t{device_info().sm_count} * 4));
  launch_pdl(kernel, blocks, kRowThreads, smem, stream, params);
  HEARTH_CUDA_LAUNCH_CHECK();
}

}  // namespace

void launch_matvec_cuda_core(const MatmulLaunch& p, cudaStream_t stream) {
  const Codec codec = pick_codec(p.w);
  const int64_t chunks = (p.w.cols + 31) / 32;
  // Tokens in passes of at most kMatvecMaxTokens; columns in slices that fit the staging budget (later
  // slices accumulate), so W is read once per token pass.
  for (int64_t t0 = 0; t0 < p.n; t0 += kMatvecMaxTokens) {
    const int n = static_cast<int>(std::min<int64_t>(kMatvecMaxTokens, p.n - t0));
    const int64_t slice = std::max<int64_t>(1, static_cast<int64_t>(kStageBudget / (static_cast<size_t>(n) * 128)));
    for (int64_t c0 = 0; c0 < chunks; c0 += slice) {
      MatvecParams mp;
      mp.w = to_dev_weight(p.w);
      mp.x = p.x + t0 * p.x_stride + c0 * 32;
      mp.x_stride = p.x_stride;
      mp.y = p.y + t0 * p.y_stride;
      mp.y_stride = p.y_stride;
      mp.n = n;
      mp.chunk_begin = c0;
      mp.chunk_count = std::min(slice, chunks - c0);
      mp.tpr = threads_per_row(mp.chunk_count);
      mp.accumulate = (p.accumulate || c0 > 0) ? 1 : 0;
      if (n == 1) {
        // Four rows per thread keep enough 16-byte loads in flight on large matrices, but leave
        // mid-size ones on a handful of SMs ([512, 2048]: 16 blocks of 132 SMs, latency-bound at
        // ~13 µs in the H100 profile). Below two blocks per SM, take one row per thread instead.
        const int64_t rows_per_block4 = static_cast<int64_t>(kRowThreads / mp.tpr) * 4;
        const int64_t blocks4 = (mp.w.rows + rows_per_block4 - 1) / rows_per_block4;
        if (blocks4 < 2 * int64_t{device_info().sm_count}) {
          launch_nt<1, 1>(codec, mp, stream);
        } else {
          launch_nt<1, 4>(codec, mp, stream);
        }
      } else {
        launch_nt<8, 1>(codec, mp, stream);
      }
    }
  }
}

// Affine 4-/8-bit: the streaming kernel (matvec_stream.cu) or the tensor-core kernel (matvec_tc.cu,
// g64/g128) as matvec_prefers_stream rules; everything else through the CUDA-core kernel above.
void launch_matvec(const MatmulLaunch& p, cudaStream_t stream) {
  check_matvec_weight(p.w, "launch_matvec");
  const bool streamed = matvec_stream_covers(p.w) &&
                        (matvec_prefers_stream(std::min<int64_t>(p.n, kMatvecMaxTokens), p.w.rows * p.w.cols) ||
                         !matvec_tc_covers(p.w));
  if (!streamed && !matvec_tc_covers(p.w)) {
    launch_matvec_cuda_core(p, stream);
    return;
  }
  for (int64_t t0 = 0; t0 < p.n; t0 += kMatvecMaxTokens) {
    StageInput in;
    in.x = p.x + t0 * p.x_stride;
    in.x_stride = p.x_stride;
    in.cols = p.w.cols;
    in.n = std::min<int64_t>(kMatvecMaxTokens, p.n - t0);
    MatvecJob job;
    job.w = p.w;
    job.y = p.y + t0 * p.y_stride;
    job.y_stride = p.y_stride;
    job.accumulate = p.accumulate;
    if (streamed) {
      launch_matvec_stream(in, &job, 1, stream);
    } else {
      launch_matvec_tc(in, &job, 1, stream);
    }
  }
}

}  // namespace hearth::engine::cuda
