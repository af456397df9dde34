// Causal grouped-query attention over the KV cache, one (token, head) pair per work item: scores in
// float32, softmax with the maximum subtracted (as torch's softmax), then the weighted sum of values.
#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/cpu/cpu_ops.h"
#include "engine/cpu/dot_kernels.h"
#include "util/error.h"

namespace hearth::engine::cpu {

namespace {

// One query head of one token: scores, softmax, weighted values.
__attribute__((target_clones("arch=x86-64-v3", "default")))
void attend_one(const AttentionArgs& a, int64_t t, int64_t h, int64_t kvh, float* scores) {
  const int64_t D = a.head_dim;
  const int64_t len = a.first_position + t + 1;  // causal: positions 0 .. own position
  const float* q = a.q.row(t) + h * D;
  float mx = -INFINITY;
  for (int64_t p = 0; p < len; ++p) {
    const float s = dot_f32(q, a.k_cache.row(p) + kvh * D, D) * a.scale;
    scores[p] = s;
    mx = std::max(mx, s);
  }
  float sum = 0;
  for (int64_t p = 0; p < len; ++p) sum += (scores[p] = std::exp(scores[p] - mx));
  const float inv = 1.0f / sum;
  float* o = a.out.row(t) + h * D;
  std::fill(o, o + D, 0.0f);
  for (int64_t p = 0; p < len; ++p) {
    const float wgt = scores[p] * inv;
    const float* v = a.v_cache.row(p) + kvh * D;
    for (int64_t d = 0; d < D; ++d) o[d] += wgt * v[d];
  }
}

}  // namespace

void attention(ThreadPool& pool, const AttentionArgs& args) {
  AttentionArgs a = args;
  if (a.position_ptr) a.first_position = *a.position_ptr;  // host memory here
  const int64_t n = a.q.rows, H = a.heads, KV = a.kv_heads, D = a.head_dim;
  if (H <= 0 || KV <= 0 || H % KV != 0 || a.q.cols != H * D || a.out.cols != H * D || a.k_cache.cols != KV * D ||
      a.v_cache.cols != KV * D || a.out.rows != n || a.first_position + n > a.k_cache.rows) {
    throw Error("attention: inconsistent shapes");
  }
  const int64_t group = H / KV;
  pool.parallel_for(n * H, [&](int64_t begin, int64_t end) {
    std::vector<float> scores(static_cast<size_t>(a.first_position + n));
    for (int64_t item = begin; item < end; ++item) {
      const int64_t t = item / H, h = item % H;
      attend_one(a, t, h, h / group, scores.data());
    }
  });
}

void conv1d(ThreadPool& pool, const Conv1dArgs& a) {
  const int64_t n = a.x.rows, C = a.x.cols, K = a.kernel;
  if (a.out.rows != n || a.out.cols != C || K < 1) throw Error("conv1d: inconsistent shapes");
  // Per channel: the window is [state (K-1 oldest first) | x]; out[t] = Σ_i w[i] · window[t + i].
  pool.parallel_for(C, [&](int64_t begin, int64_t end) {
    std::vector<float> window(static_cast<size_t>(K - 1 + n));
    for (int64_t c = begin; c < end; ++c) {
      for (int64_t i = 0; i < K - 1; ++i) window[static_cast<size_t>(i)] = a.state[i * C + c];
      for (int64_t t = 0; t < n; ++t) window[static_cast<size_t>(K - 1 + t)] = a.x.row(t)[c];
      const float* w = a.weight + c * K;
      for (int64_t t = 0; t < n; ++t) {
        float s = 0;
        for (int64_t i = 0; i < K; ++i) s += w[i] * window[static_cast<size_t>(t + i)];
        a.out.row(t)[c] = a.silu ? s / (1.0f + std::exp(-s)) : s;
      }
      for (int64_t i = 0; i < K - 1; ++i) a.state[i * C + c] = window[static_cast<size_t>(n + i)];
    }
  }, 64);
}

}  // namespace hearth::engine::cpu
