// y = x · Wᵀ for every weight format. Work is split over output rows, so each thread streams its own
// slice of the weight matrix once. One token: each row is decoded and dotted in one pass (decode is
// memory-bound on the weights). Several tokens: each row is decoded once into a float buffer and
// reused for a block of tokens, which turns the decode cost into a small fraction of the FLOPs.
#include <algorithm>
#include <vector>

#include "engine/cpu/cpu_ops.h"
#include "engine/cpu/dot_kernels.h"
#include "util/error.h"

namespace hearth::engine::cpu {

namespace {
constexpr int64_t kTokenBlock = 32;  // tokens sharing one decoded row while it is hot in L1/L2
// Up to this many tokens, each is computed the way the one-token path computes it (decode and dot in one
// pass per token), so that a short entry gives bit for bit what one-token steps give: speculative
// decoding's verification relies on it (engine/model.h SlotTokens::logit_rows).
constexpr int64_t kStepwiseTokens = 9;
}

void matmul(ThreadPool& pool, const MatmulArgs& a) {
  const WeightMatrix& w = *a.weight;
  if (a.x.cols != w.cols || a.y.cols != w.rows || a.x.rows != a.y.rows) {
    throw Error("matmul: shapes x [" + std::to_string(a.x.rows) + ", " + std::to_string(a.x.cols) + "], W " + w.describe() +
                ", y [" + std::to_string(a.y.rows) + ", " + std::to_string(a.y.cols) + "] do not match");
  }
  const int64_t n = a.x.rows;
  if (n == 0 || w.rows == 0) return;
  // Small matrices are not worth waking the pool for.
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, w.cols));
  if (n <= kStepwiseTokens) {
    pool.parallel_for(w.rows, [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o) {
        for (int64_t t = 0; t < n; ++t) {
          const float v = dot_row(w, o, a.x.row(t));
          float& dst = a.y.row(t)[o];
          dst = a.accumulate ? dst + v : v;
        }
      }
    }, grain);
    return;
  }
  pool.parallel_for(w.rows, [&](int64_t begin, int64_t end) {
    thread_local std::vector<float> buf;
    if (buf.size() < static_cast<size_t>(w.cols)) buf.resize(static_cast<size_t>(w.cols));
    for (int64_t t0 = 0; t0 < n; t0 += kTokenBlock) {
      const int64_t t1 = std::min(n, t0 + kTokenBlock);
      for (int64_t o = begin; o < end; ++o) {
        decode_row_fast(w, o, buf.data());
        for (int64_t t = t0; t < t1; ++t) {
          const float v = dot_f32(buf.data(), a.x.row(t), w.cols);
          float& dst = a.y.row(t)[o];
          dst = a.accumulate ? dst + v : v;
        }
      }
    }
  }, grain);
}

}  // namespace hearth::engine::cpu
