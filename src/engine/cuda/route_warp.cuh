#pragma once
// MoE routing of one token by one warp: softmax over the expert logits, top-k (ties to the lower expert
// index, as the CPU reference), optional renormalisation over the chosen k. Shared by kernel_route
// (moe_decode.cu) and the fused MoE gate/up kernel (moe_decode_fused.cu), which recomputes it in every
// block so that routing needs no launch of its own.
#include <cuda_runtime.h>

#include <cstdint>

#include "engine/cuda/device_weights.cuh"

namespace hearth::engine::cuda {

constexpr int kRouteMaxPerLane = 16;  // experts <= 512

// Lane j < top_k holds the j-th choice (best first). Every lane of the warp must call this.
struct RouteChoice {
  int index = 0;
  float weight = 0.0f;
};

__device__ inline RouteChoice route_token_warp(const float* logits, int64_t experts, int64_t top_k, bool normalize) {
  const int lane = threadIdx.x & 31;
  float v[kRouteMaxPerLane];
  float mx = -INFINITY;
#pragma unroll
  for (int i = 0; i < kRouteMaxPerLane; ++i) {
    const int64_t e = i * 32 + lane;
    const float l = e < experts ? logits[e] : -INFINITY;
    v[i] = l == l ? l : -INFINITY;  // a NaN logit never wins (and never poisons the others)
    mx = fmaxf(mx, v[i]);
  }
  mx = warp_max(mx);
  float sum = 0.0f;
#pragma unroll
  for (int i = 0; i < kRouteMaxPerLane; ++i)
    if (i * 32 + lane < experts) sum += expf(v[i] - mx);
  sum = warp_sum(sum);

  float chosen_sum = 0.0f;
  RouteChoice mine;
  for (int j = 0; j < top_k; ++j) {
    float best = -INFINITY;
    int best_e = 0x7fffffff;
#pragma unroll
    for (int i = 0; i < kRouteMaxPerLane; ++i) {
      const int e = i * 32 + lane;
      if (v[i] > best) best = v[i], best_e = e;  // ascending e: first of equals kept
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
      const float ob = __shfl_xor_sync(0xffffffffu, best, o);
      const int oe = __shfl_xor_sync(0xffffffffu, best_e, o);
      if (ob > best || (ob == best && oe < best_e)) best = ob, best_e = oe;
    }
#pragma unroll
    for (int i = 0; i < kRouteMaxPerLane; ++i)
      if (i * 32 + lane == best_e) v[i] = -INFINITY;
    if (best_e >= experts) best_e = j;  // no finite logit left: any valid index keeps reads in bounds
    const float prob = expf(best - mx) / sum;
    chosen_sum += prob;
    if (lane == j) mine.weight = prob, mine.index = best_e;
  }
  if (normalize) mine.weight /= chosen_sum;
  return mine;
}

}  // namespace hearth::engine::cuda
