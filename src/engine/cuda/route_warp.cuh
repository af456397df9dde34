#pragma once
// MoE routing of one token by one warp: softmax over the expert logits, top-k (ties to the lower expert
// index, as the CPU reference), optional renormalisation over the chosen k. Shared by kernel_route
// (moe_decode.cu) and the fused MoE gate/up kernel (moe_decode_fused.cu), which recomputes it in every
// block so that routing needs no launch of its own.
#include <cuda_runtime.h>

#include <cstdint>

#include "engine/cuda/device_weights.cuh"
#include "engine/cuda/route_key.h"

namespace hearth::engine::cuda {

constexpr int kRouteMaxPerLane = 16;  // experts <= 512

// Lane j < top_k holds the j-th choice (best first). Every lane of the warp must call this.
struct RouteChoice {
  int index = 0;
  float weight = 0.0f;
};

// Each of the top_k rounds takes the largest remaining logit (lowest expert index among equals) with two
// warp-wide integer reductions: the max key, then the min expert index among the lanes holding it.
__device__ inline RouteChoice route_token_warp(const float* logits, int64_t experts, int64_t top_k, bool normalize) {
  const int lane = threadIdx.x & 31;
  float v[kRouteMaxPerLane];
  uint32_t top = 0;
#pragma unroll
  for (int i = 0; i < kRouteMaxPerLane; ++i) {
    const int64_t e = i * 32 + lane;
    const float l = e < experts ? logits[e] : -INFINITY;
    // A NaN logit never wins (and never poisons the others); -0 counts as +0, so that the two tie in
    // the integer keys as they do as floats.
    v[i] = l == l ? (l == 0.0f ? 0.0f : l) : -INFINITY;
    top = max(top, route_key(v[i]));
  }
  const float mx = route_key_value(__reduce_max_sync(0xffffffffu, top));
  float sum = 0.0f;
#pragma unroll
  for (int i = 0; i < kRouteMaxPerLane; ++i)
    if (i * 32 + lane < experts) sum += expf(v[i] - mx);
  sum = warp_sum(sum);

  float chosen_sum = 0.0f;
  RouteChoice mine;
  for (int j = 0; j < top_k; ++j) {
    // This lane's best remaining expert: strictly above -inf (an expert at -inf is never chosen), the
    // first of equals (ascending e).
    float best = -INFINITY;
    uint32_t best_e = 0x7fffffffu;
#pragma unroll
    for (int i = 0; i < kRouteMaxPerLane; ++i)
      if (v[i] > best) best = v[i], best_e = static_cast<uint32_t>(i * 32 + lane);
    const uint32_t win_key = __reduce_max_sync(0xffffffffu, route_key(best));
    uint32_t win_e = __reduce_min_sync(0xffffffffu, route_key(best) == win_key ? best_e : 0xffffffffu);
#pragma unroll
    for (int i = 0; i < kRouteMaxPerLane; ++i)
      if (static_cast<uint32_t>(i * 32 + lane) == win_e) v[i] = -INFINITY;
    if (win_e >= static_cast<uint32_t>(experts)) win_e = static_cast<uint32_t>(j);  // no finite logit left: any valid index keeps reads in bounds
    const float prob = expf(route_key_value(win_key) - mx) / sum;
    chosen_sum += prob;
    if (lane == j) mine.weight = prob, mine.index = static_cast<int>(win_e);
  }
  if (normalize) mine.weight /= chosen_sum;
  return mine;
}

}  // namespace hearth::engine::cuda
