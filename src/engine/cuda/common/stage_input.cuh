#pragma once
// The staged-input transforms of the fused decode launches (common/types.h: StageInput). A decode kernel
// that reads a small input vector (hidden size or intermediate size, 1..8 tokens) applies the op that
// produced it while staging — the RMSNorm before a projection, the SwiGLU before a down projection —
// so that op needs no kernel and no round trip through memory of its own. The input is tiny next to
// the weights (8 KB per token for a 2048-wide hidden state, read from L2), so every block recomputing
// the norm costs nothing measurable.
//
// Use, by every thread of the block:
//   __shared__ float inv_rms[kMatvecMaxTokens];
//   stage_input_prepare(in, inv_rms);   // synchronises the block
//   ... x̂ = stage_input_value(in, inv_rms, t, col) for any token t < in.n and column col < in.cols
#include <cuda_runtime.h>

#include <cstdint>

#include "engine/cuda/common/device_weights.cuh"
#include "engine/cuda/common/types.h"

namespace hearth::engine::cuda {

__device__ __forceinline__ float stage_silu(float v) { return v / (1.0f + __expf(-v)); }

// For rms_norm: inv_rms[t] = 1 / sqrt(mean(x_t²) + eps) for every token, reduced over the block (any
// block size that is a multiple of 32, up to 1024). For the other transforms it only synchronises.
// Must be called by every thread of the block (it contains barriers).
__device__ inline void stage_input_prepare(const StageInput& in, float* inv_rms) {
  if (in.transform == StageTransform::rms_norm) {
    __shared__ float partial[32];
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, warps = blockDim.x >> 5;
    for (int64_t t = 0; t < in.n; ++t) {
      const float* x = in.x + t * in.x_stride;
      float s = 0.0f;
      for (int64_t c = threadIdx.x; c < in.cols; c += blockDim.x) s = fmaf(x[c], x[c], s);
      s = warp_sum(s);
      if (lane == 0) partial[warp] = s;
      __syncthreads();
      if (warp == 0) {
        float v = lane < warps ? partial[lane] : 0.0f;
        v = warp_sum(v);
        if (lane == 0) inv_rms[t] = rsqrtf(v / static_cast<float>(in.cols) + in.eps);
      }
      __syncthreads();
    }
  } else {
    __syncthreads();
  }
}

// x̂[t][col] under the transform (col < in.cols; callers zero-fill past the end themselves).
__device__ __forceinline__ float stage_input_value(const StageInput& in, const float* inv_rms, int64_t t, int64_t col) {
  const float v = in.x[t * in.x_stride + col];
  switch (in.transform) {
    case StageTransform::rms_norm: return v * inv_rms[t] * in.norm_weight[col];
    case StageTransform::swiglu: return stage_silu(v) * in.up[t * in.up_stride + col];
    default: return v;
  }
}

}  // namespace hearth::engine::cuda
