#pragma once
// MoE routing of one token by one warp: softmax over the expert logits, top-k (ties to the lower expert
// index, as the CPU reference), optional renormalisation over the chosen k. route_token_warp serves
// kernel_route (moe_decode.cu); route_token_warp_tree, same results, the fused MoE gate/up kernel
// (moe_decode_fused.cu), which recomputes routing in every block so that it needs no launch of its own.
#include <cuda_runtime.h>

#include <cstdint>

#include "engine/cuda/common/device_weights.cuh"
#include "engine/cuda/moe/route_key.h"

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

// The same choice, weights and bits as route_token_warp, with a shorter dependent chain for the fused
// MoE kernel, where routing precedes every expert load: each round finds a lane's best remaining
// logit by a pairwise tree over adjacent entries (depth 4 instead of a 16-step scan; the lower
// entry wins ties, so the first of equals still wins), and the probabilities are formed once after
// the rounds (lane j for choice j) instead of inside each round; chosen_sum adds them in the same
// order j = 0, 1, ... as route_token_warp. Every lane of the warp must call this.
__device__ inline RouteChoice route_token_warp_tree(const float* logits, int64_t experts, int64_t top_k,
                                                    bool normalize) {
  const int lane = threadIdx.x & 31;
  float v[kRouteMaxPerLane];
  uint32_t top = 0;
#pragma unroll
  for (int i = 0; i < kRouteMaxPerLane; ++i) {
    const int64_t e = i * 32 + lane;
    const float l = e < experts ? logits[e] : -INFINITY;
    v[i] = l == l ? (l == 0.0f ? 0.0f : l) : -INFINITY;  // as route_token_warp
    top = max(top, route_key(v[i]));
  }
  const float mx = route_key_value(__reduce_max_sync(0xffffffffu, top));
  float sum = 0.0f;
#pragma unroll
  for (int i = 0; i < kRouteMaxPerLane; ++i)
    if (i * 32 + lane < experts) sum += expf(v[i] - mx);
  sum = warp_sum(sum);

  uint32_t my_key = 0, my_e = 0;
  for (int j = 0; j < top_k; ++j) {
    float bv[kRouteMaxPerLane];
    int bi[kRouteMaxPerLane];
#pragma unroll
    for (int i = 0; i < kRouteMaxPerLane; ++i) bv[i] = v[i], bi[i] = i;
#pragma unroll
    for (int width = 1; width < kRouteMaxPerLane; width *= 2)
#pragma unroll
      for (int i = 0; i < kRouteMaxPerLane; i += 2 * width)
        if (bv[i + width] > bv[i]) bv[i] = bv[i + width], bi[i] = bi[i + width];
    // Strictly above -inf, as route_token_warp's scan: a lane with nothing left offers no expert.
    const uint32_t best_e = bv[0] > -INFINITY ? static_cast<uint32_t>(bi[0] * 32 + lane) : 0x7fffffffu;
    const uint32_t key = route_key(bv[0] > -INFINITY ? bv[0] : -INFINITY);
    const uint32_t win_key = __reduce_max_sync(0xffffffffu, key);
    uint32_t win_e = __reduce_min_sync(0xffffffffu, key == win_key ? best_e : 0xffffffffu);
#pragma unroll
    for (int i = 0; i < kRouteMaxPerLane; ++i)
      if (static_cast<uint32_t>(i * 32 + lane) == win_e) v[i] = -INFINITY;
    if (win_e >= static_cast<uint32_t>(experts)) win_e = static_cast<uint32_t>(j);  // as route_token_warp
    if (lane == j) my_key = win_key, my_e = win_e;
  }
  const float prob = lane < top_k ? expf(route_key_value(my_key) - mx) / sum : 0.0f;
  float chosen_sum = 0.0f;
  for (int j = 0; j < top_k; ++j) chosen_sum += __shfl_sync(0xffffffffu, prob, j);
  RouteChoice mine;
  if (lane < top_k) mine.weight = normalize ? prob / chosen_sum : prob, mine.index = static_cast<int>(my_e);
  return mine;
}

}  // namespace hearth::engine::cuda
