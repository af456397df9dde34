#pragma once
// Pieces shared by the matrix-vector kernels (matvec.cu, moe_decode.cu): the input vector staged in
// shared memory, and the dot product of one decoded 32-element chunk with it.
#include <cuda_runtime.h>

#include <cstdint>

#include "engine/cuda/common/device_weights.cuh"

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

// ---- folded affine chunks: Σ_e (s·q_e + b)·x_e = s·Σ_e q_e·x_e + b·Σ_e x_e --------------------------
// For a chunk inside one quantisation group, the scale and bias leave the per-element loop: the codes'
// dot with x in float32 (below), then two FMAs with s and with b·Σx (Σx per chunk staged beside x).

// Byte m of v as the float 2^23 + byte (exact), minus 2^23: the byte's value as a float.
template <int M>
__device__ __forceinline__ float byte_value(uint32_t v) {
  return __uint_as_float(__byte_perm(v, 0x4B000000u, 0x7540u + M)) - 8388608.0f;
}

// Σ_e q_e · x_e over one 32-element chunk: `q` the chunk's one (4-bit) or two (8-bit) 16-byte code
// words, xt the staged vector, c the chunk index within it.
template <int BITS>
__device__ __forceinline__ float chunk_code_dot(const uint4 (&q)[BITS / 4], const float4* xt, int64_t c) {
  float s0 = 0.0f, s1 = 0.0f;
  if constexpr (BITS == 4) {
    const uint32_t words[4] = {q[0].x, q[0].y, q[0].z, q[0].w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const uint32_t lo = words[i] & 0x0F0F0F0Fu, hi = (words[i] >> 4) & 0x0F0F0F0Fu;
      const float4 xa = xt[staged_slot(c, 2 * i)], xb = xt[staged_slot(c, 2 * i + 1)];
      // Nibble k of the word is element 8i + k: even k in lo's byte k/2, odd k in hi's.
      s0 = fmaf(byte_value<0>(lo), xa.x, s0);
      s1 = fmaf(byte_value<0>(hi), xa.y, s1);
      s0 = fmaf(byte_value<1>(lo), xa.z, s0);
      s1 = fmaf(byte_value<1>(hi), xa.w, s1);
      s0 = fmaf(byte_value<2>(lo), xb.x, s0);
      s1 = fmaf(byte_value<2>(hi), xb.y, s1);
      s0 = fmaf(byte_value<3>(lo), xb.z, s0);
      s1 = fmaf(byte_value<3>(hi), xb.w, s1);
    }
  } else {
    const uint32_t words[8] = {q[0].x, q[0].y, q[0].z, q[0].w, q[1].x, q[1].y, q[1].z, q[1].w};
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      const float4 xa = xt[staged_slot(c, i)];
      s0 = fmaf(byte_value<0>(words[i]), xa.x, s0);
      s1 = fmaf(byte_value<1>(words[i]), xa.y, s1);
      s0 = fmaf(byte_value<2>(words[i]), xa.z, s0);
      s1 = fmaf(byte_value<3>(words[i]), xa.w, s1);
    }
  }
  return s0 + s1;
}

// Σ of one chunk's 32 staged values when 8 consecutive lanes (aligned to 8) staged its 8 float4 `f`;
// the sum is returned to all 8. Every lane of the warp must call it.
__device__ __forceinline__ float chunk_sum8(float4 f) {
  float s = (f.x + f.y) + (f.z + f.w);
  s += __shfl_xor_sync(0xffffffffu, s, 1);
  s += __shfl_xor_sync(0xffffffffu, s, 2);
  s += __shfl_xor_sync(0xffffffffu, s, 4);
  return s;
}

}  // namespace hearth::engine::cuda
