// Routed MoE experts on the CPU: the (token, slot) pairs are grouped by expert, so each selected
// expert's three matrices are streamed once per call however many tokens chose it; each expert's
// matmuls are themselves split over the thread pool.
#include <cmath>
#include <vector>

#include "engine/cpu/cpu_ops.h"
#include "util/error.h"

namespace hearth::engine::cpu {

void moe(ThreadPool& pool, const MoeArgs& a) {
  const int64_t n = a.x.rows, H = a.x.cols, k = a.top_k;
  if (!a.gate || !a.up || !a.down || a.out.rows != n || a.out.cols != H || a.gate->count() == 0) {
    throw Error("moe: inconsistent arguments");
  }
  const int64_t E = a.gate->count();
  const int64_t I = a.gate->at(0).rows;
  std::vector<std::vector<std::pair<int64_t, float>>> assigned(static_cast<size_t>(E));
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t j = 0; j < k; ++j) {
      const int32_t e = a.indices[t * k + j];
      if (e < 0 || e >= E) throw Error("moe: expert index out of range");
      assigned[static_cast<size_t>(e)].push_back({t, a.weights[t * k + j]});
    }
  }
  std::vector<float> xs, g, u, d;
  for (int64_t e = 0; e < E; ++e) {
    const auto& list = assigned[static_cast<size_t>(e)];
    if (list.empty()) continue;
    const int64_t m = static_cast<int64_t>(list.size());
    xs.resize(static_cast<size_t>(m * H));
    g.resize(static_cast<size_t>(m * I));
    u.resize(static_cast<size_t>(m * I));
    d.resize(static_cast<size_t>(m * H));
    for (int64_t r = 0; r < m; ++r) {
      const float* src = a.x.row(list[static_cast<size_t>(r)].first);
      std::copy(src, src + H, xs.begin() + r * H);
    }
    const Tensor X = Tensor::contiguous(xs.data(), m, H), G = Tensor::contiguous(g.data(), m, I),
                 U = Tensor::contiguous(u.data(), m, I), D = Tensor::contiguous(d.data(), m, H);
    matmul(pool, {&a.gate->at(e), X, G, false});
    matmul(pool, {&a.up->at(e), X, U, false});
    for (int64_t i = 0; i < m * I; ++i) {
      const float gv = g[static_cast<size_t>(i)];
      g[static_cast<size_t>(i)] = gv / (1.0f + std::exp(-gv)) * u[static_cast<size_t>(i)];
    }
    matmul(pool, {&a.down->at(e), G, D, false});
    for (int64_t r = 0; r < m; ++r) {
      const auto [t, wgt] = list[static_cast<size_t>(r)];
      float* o = a.out.row(t);
      const float* src = d.data() + r * H;
      for (int64_t c = 0; c < H; ++c) o[c] += wgt * src[c];
    }
  }
}

}  // namespace hearth::engine::cpu
