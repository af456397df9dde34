#pragma once
// Pieces shared by the matrix-vector kernels (matvec.cu, moe_decode.cu): the input vector staged in
// shared memory, and the dot product of one decoded 32-element chunk with it.
#include <cuda_runtime.h>

#include <cstdint>

#include "engine/cuda/device_weights.cuh"

namespace hearth::engine::cuda {

// Each lane decodes whole 32-element chunks, so lanes of a warp read x at a stride of 128 bytes. Staged
// as float4 with chunk c's e4-th float4 at slot c·8 + (e4 ^ (c & 7)), the 8 lanes of one 128-bit
// shared-memory phase (8 consecutive chunks, same e4) land on 8 different 16-byte bank groups.
__device__ __forceinline__ int64_t staged_slot(int64_t c, int e4) { return c * 8 + (e4 ^ static_cast<int>(c & 7)); }

// Stages `count` vectors (vector v starts at x + v·x_stride) of `chunks`·32 floats, columns at or past
// `valid_cols` read as zero. Every thread of the block takes part; the caller synchronises.
__device__ inline void stage_vectors(float4* xs, const float* x, int64_t x_stride, int count, int64_t chunks,
                                     int64_t valid_cols) {
  const int64_t per = chunks * 8;
  for (int64_t i = threadIdx.x; i < count * per; i += blockDim.x) {
    const int64_t v = i / per, rem = i - v * per, c = rem >> 3;
    const int e4 = static_cast<int>(rem & 7);
    const int64_t col = c * 32 + e4 * 4;
    const float* src = x + v * x_stride;
    float4 f;
    f.x = col < valid_cols ? src[col] : 0.0f;
    f.y = col + 1 < valid_cols ? src[col + 1] : 0.0f;
    f.z = col + 2 < valid_cols ? src[col + 2] : 0.0f;
    f.w = col + 3 < valid_cols ? src[col + 3] : 0.0f;
    xs[v * per + staged_slot(c, e4)] = f;
  }
}

// Σ_e wv[e] · x[32c + e] for a staged vector xt.
__device__ __forceinline__ float dot_staged_chunk(const float (&wv)[32], const float4* xt, int64_t c) {
  float s0 = 0.0f, s1 = 0.0f;
#pragma unroll
  for (int e4 = 0; e4 < 8; ++e4) {
    const float4 xv = xt[staged_slot(c, e4)];
    s0 = fmaf(wv[4 * e4], xv.x, s0);
    s1 = fmaf(wv[4 * e4 + 1], xv.y, s1);
    s0 = fmaf(wv[4 * e4 + 2], xv.z, s0);
    s1 = fmaf(wv[4 * e4 + 3], xv.w, s1);
  }
  return s0 + s1;
}

}  // namespace hearth::engine::cuda
