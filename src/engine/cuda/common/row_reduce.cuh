#pragma once
// Matrix-vector work layout shared by matvec.cu and moe_decode.cu: a row's 32-element chunks are
// spread over `tpr` threads (a power of two up to 32), so a block of 256 threads covers 256 / tpr rows
// per pass with one or more independent 16-byte loads per thread and row. The partial sums of a row
// are then reduced across its tpr threads.
#include <cuda_runtime.h>

#include <cstdint>

#include "engine/cuda/common/device_weights.cuh"

namespace hearth::engine::cuda {

constexpr int kRowThreads = 256;

// Threads per row for a row of `chunks` chunks: the largest power of two not above it, at most one
// warp — so a row's sum needs only shuffles, never a block barrier, and long rows give each thread
// several independent 16-byte loads (measured on H100: spreading a row over several warps, with a
// barrier per reduction, left large matrices at 0.6–0.8 TB/s).
inline int threads_per_row(int64_t chunks) {
  int t = 1;
  while (t * 2 <= chunks && t < 32) t *= 2;
  return t;
}

// Sums v over the tpr consecutive threads that share a row (tpr a power of two dividing 256); the
// result is valid in the row's first thread. `scratch` holds kRowThreads / 32 floats; every thread of
// the block must call this (it synchronises when a row spans several warps).
__device__ __forceinline__ float row_sum(float v, int tpr, float* scratch) {
  const int width = tpr < 32 ? tpr : 32;
  for (int o = width / 2; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  if (tpr <= 32) return v;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  const int per_row = tpr / 32;
  float total = 0.0f;
  if ((threadIdx.x & (tpr - 1)) == 0)
    for (int i = 0; i < per_row; ++i) total += scratch[warp + i];
  __syncthreads();
  return total;
}

}  // namespace hearth::engine::cuda
