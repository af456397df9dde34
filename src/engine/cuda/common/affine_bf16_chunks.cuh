#pragma once
// The load-then-decode split of affine 4/8-bit weights with bf16 scales and biases (MLX's quantised
// layout, what the MoE models ship), for kernels that want many independent loads in flight per lane.
//
// decode_chunk<affine4/8> (device_weights.cuh) is general over the scale dtype and group size, which
// puts a dtype switch and a 64-bit division between one chunk's load and the next; ptxas then cannot
// hoist the next loads above them, and a lane waits on one 16-byte load at a time. Here a kernel first
// issues every load of a pass (affine_chunk_load: branch-free, 32-bit group arithmetic by shift), then
// decodes and multiplies (affine_chunk_dot), with exactly the arithmetic of decode_chunk<affine4/8> +
// dot_staged_chunk, so results are bit-identical to the general path.
#include <cuda_runtime.h>

#include <cstdint>

#include "engine/cuda/common/device_weights.cuh"
#include "engine/cuda/common/matvec_common.cuh"

namespace hearth::engine::cuda {

// One 32-element chunk of a row, as loaded: BITS/4 16-byte words, the group's scale and bias (bf16).
template <int BITS>
struct AffineChunk {
  static constexpr int kWords = BITS / 4;
  uint4 q[kWords];
  uint32_t scale, bias;
};

// Chunk `chunk` of row `row` of an affine BITS-bit matrix with bf16 scales whose group spans
// 2^group_shift chunks. `data` is the matrix start, `row_bytes`/`groups` its row pitch and groups per row.
template <int BITS>
__device__ __forceinline__ AffineChunk<BITS> affine_chunk_load(const uint8_t* data, const uint8_t* scales,
                                                               const uint8_t* biases, int64_t row_bytes,
                                                               int64_t groups, int64_t row, int64_t chunk,
                                                               int group_shift) {
  AffineChunk<BITS> a;
  const uint4* q = reinterpret_cast<const uint4*>(data + row * row_bytes) + chunk * AffineChunk<BITS>::kWords;
#pragma unroll
  for (int l = 0; l < AffineChunk<BITS>::kWords; ++l) a.q[l] = __ldg(q + l);
  const int64_t g = row * groups + (chunk >> group_shift);
  a.scale = __ldg(reinterpret_cast<const unsigned short*>(scales) + g);
  a.bias = __ldg(reinterpret_cast<const unsigned short*>(biases) + g);
  return a;
}

// Σ_e w[e] · x[32c + e] for a loaded chunk and a staged vector (matvec_common.cuh).
template <int BITS>
__device__ __forceinline__ float affine_chunk_dot(const AffineChunk<BITS>& a, const float4* xs, int64_t c) {
  const float s = dev_bf16(a.scale), b = dev_bf16(a.bias);
  float wv[32];
  if constexpr (BITS == 4) {
    const uint32_t words[4] = {a.q[0].x, a.q[0].y, a.q[0].z, a.q[0].w};
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int k = 0; k < 8; ++k) wv[i * 8 + k] = fmaf(s, dev_small_uint((words[i] >> (4 * k)) & 15u), b);
  } else {
    const uint32_t words[8] = {a.q[0].x, a.q[0].y, a.q[0].z, a.q[0].w, a.q[1].x, a.q[1].y, a.q[1].z, a.q[1].w};
#pragma unroll
    for (int i = 0; i < 8; ++i)
#pragma unroll
      for (int k = 0; k < 4; ++k) wv[i * 4 + k] = fmaf(s, dev_small_uint((words[i] >> (8 * k)) & 255u), b);
  }
  return dot_staged_chunk(wv, xs, c);
}

}  // namespace hearth::engine::cuda
