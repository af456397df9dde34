// attention_prep_layout.h: one warp per (token, head item). A query or key head is normed (the sum of squares
// is a warp reduction), then each lane rotates its pairs (i, i + rotary_dim/2) and writes them; lanes
// touch disjoint elements after the reduction, so the key head can be rewritten in place. RoPE's
// frequencies are computed exactly as kernel_rope (elementwise.cu) computes them.
#include <string>

#include "engine/cuda/attention/attention.h"
#include "engine/cuda/attention/attention_prep_layout.h"
#include "engine/cuda/common/cuda_check.h"
#include "engine/cuda/common/device_weights.cuh"
#include "engine/cuda/common/launch.cuh"
#include "util/error.h"

namespace hearth::engine::cuda {
namespace {

constexpr int kWarpsPerBlock = 8;

__device__ __forceinline__ float rope_inv_freq(int k, int rotary_dim, float theta) {
  const float e = static_cast<float>(2 * k) / static_cast<float>(rotary_dim);
  return 1.0f / static_cast<float>(pow(static_cast<double>(theta), static_cast<double>(e)));
}

// dst = rope(rmsnorm(src) · weight) over one head; dst may equal src.
__device__ __forceinline__ void norm_rope_head(const float* src, float* dst, const float* weight, int D, int rotary_dim,
                                               float theta, float eps, int64_t position, int lane) {
  float ss = 0.0f;
  for (int d = lane; d < D; d += 32) ss = fmaf(src[d], src[d], ss);
  const float inv = rsqrtf(warp_sum(ss) / static_cast<float>(D) + eps);  // every lane has read src
  const int half = rotary_dim / 2;
  for (int k = lane; k < half; k += 32) {
    const float a = src[k] * inv * weight[k], b = src[k + half] * inv * weight[k + half];
    const float angle = static_cast<float>(position) * rope_inv_freq(k, rotary_dim, theta);
    float s, c;
    sincosf(angle, &s, &c);
    dst[k] = a * c - b * s;
    dst[k + half] = b * c + a * s;
  }
  for (int d = rotary_dim + lane; d < D; d += 32) dst[d] = src[d] * inv * weight[d];
}

__global__ void __launch_bounds__(kWarpsPerBlock * 32) kernel_attention_prep(const AttentionPrepLaunch p) {
  pdl_begin();  // launch.cuh: wait for the previous kernel before touching memory
  const int64_t item = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (item >= attention_prep_items(p.n, p.heads, p.kv_heads)) return;
  const PrepItem it = attention_prep_item(item, p.heads, p.kv_heads);
  const int D = p.head_dim;
  const int64_t base = p.dev_position ? *p.dev_position : p.first_position;
  const int64_t position = base + it.token;
  switch (it.kind) {
    case PrepItemKind::query: {
      const float* src = p.q_proj + it.token * p.q_proj_stride + static_cast<int64_t>(it.head) * D * (p.gated ? 2 : 1);
      float* dst = p.q + it.token * p.q_stride + static_cast<int64_t>(it.head) * D;
      if (p.gated) {
        float* gate = p.gate + it.token * p.gate_stride + static_cast<int64_t>(it.head) * D;
        for (int d = lane; d < D; d += 32) gate[d] = src[D + d];
      }
      norm_rope_head(src, dst, p.q_norm, D, p.rotary_dim, p.theta, p.eps, position, lane);
      break;
    }
    case PrepItemKind::key: {
      float* k = p.k + it.token * p.k_stride + static_cast<int64_t>(it.head) * D;
      norm_rope_head(k, k, p.k_norm, D, p.rotary_dim, p.theta, p.eps, position, lane);
      __syncwarp();  // the lanes' rotated values, then the cache row
      float* row = p.k_cache + position * p.cache_stride + static_cast<int64_t>(it.head) * D;
      for (int d = lane; d < D; d += 32) row[d] = k[d];
      break;
    }
    case PrepItemKind::value: {
      const float* v = p.v + it.token * p.v_stride + static_cast<int64_t>(it.head) * D;
      float* row = p.v_cache + position * p.cache_stride + static_cast<int64_t>(it.head) * D;
      for (int d = lane; d < D; d += 32) row[d] = v[d];
      break;
    }
  }
}

}  // namespace

void launch_attention_prep(const AttentionPrepLaunch& p, cudaStream_t stream) {
  if (p.n <= 0) return;
  if (p.heads <= 0 || p.kv_heads <= 0 || p.head_dim <= 0 || p.rotary_dim % 2 != 0 || p.rotary_dim > p.head_dim)
    throw Error("CUDA attention prep: bad head sizes (heads " + std::to_string(p.heads) + ", kv_heads " +
                    std::to_string(p.kv_heads) + ", head_dim " + std::to_string(p.head_dim) + ", rotary_dim " +
                    std::to_string(p.rotary_dim) + ")",
                ErrorKind::unsupported);
  const int64_t items = attention_prep_items(p.n, p.heads, p.kv_heads);
  const auto blocks = static_cast<unsigned>((items + kWarpsPerBlock - 1) / kWarpsPerBlock);
  launch_pdl(kernel_attention_prep, blocks, kWarpsPerBlock * 32, 0, stream, p);
  HEARTH_CUDA_LAUNCH_CHECK();
}

}  // namespace hearth::engine::cuda
