// The gated delta rule (Gated DeltaNet) on the CPU, one value head per work item, both forms:
//  recurrent — per token: S *= exp(g); u = beta (v - Sᵀk); S += k uᵀ; o = Sᵀq (the decode form).
//  chunked   — the prefill form transformers uses (torch_chunk_gated_delta_rule): within a chunk the
//              delta updates are solved together through a unit lower-triangular system, then one
//              state update per chunk. The last chunk may be short (equivalent to zero padding).
// Both start from and leave `state`, so prefill and decode share one state.
#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/cpu/cpu_ops.h"
#include "engine/cpu/dot_kernels.h"
#include "util/error.h"

namespace hearth::engine::cpu {

namespace {

// q and k of one head, L2-normalised (x / sqrt(Σx² + 1e-6)), q then scaled by Dk^-0.5.
void normalised_qk(const DeltaRuleArgs& a, int64_t kh, std::vector<float>& qn, std::vector<float>& kn) {
  const int64_t n = a.q.rows, Dk = a.dk;
  const float scale = 1.0f / std::sqrt(static_cast<float>(Dk));
  qn.resize(static_cast<size_t>(n * Dk));
  kn.resize(static_cast<size_t>(n * Dk));
  for (int64_t t = 0; t < n; ++t) {
    const float* q = a.q.row(t) + kh * Dk;
    const float* k = a.k.row(t) + kh * Dk;
    float sq = 0, sk = 0;
    for (int64_t i = 0; i < Dk; ++i) {
      sq += q[i] * q[i];
      sk += k[i] * k[i];
    }
    const float iq = 1.0f / std::sqrt(sq + 1e-6f), ik = 1.0f / std::sqrt(sk + 1e-6f);
    for (int64_t i = 0; i < Dk; ++i) {
      qn[static_cast<size_t>(t * Dk + i)] = (q[i] * iq) * scale;
      kn[static_cast<size_t>(t * Dk + i)] = k[i] * ik;
    }
  }
}

// Two passes over S per token: (e^g S)ᵀk = e^g (Sᵀk), so the decay is folded into the read pass and
// into the write pass (S = e^g S + k uᵀ) instead of a pass of its own.
__attribute__((target_clones("arch=x86-64-v3", "default")))
void recurrent_head(const DeltaRuleArgs& a, int64_t h, const float* qn, const float* kn, float* S) {
  const int64_t n = a.q.rows, Dk = a.dk, Dv = a.dv;
  std::vector<float> u(static_cast<size_t>(Dv));
  float* uu = u.data();
  for (int64_t t = 0; t < n; ++t) {
    const float decay = std::exp(a.g.row(t)[h]);
    const float beta = a.beta.row(t)[h];
    const float* k = kn + t * Dk;
    const float* q = qn + t * Dk;
    const float* v = a.v.row(t) + h * Dv;
    for (int64_t j = 0; j < Dv; ++j) uu[j] = 0;
    for (int64_t i = 0; i < Dk; ++i) {
      const float ki = k[i];
      const float* row = S + i * Dv;
      for (int64_t j = 0; j < Dv; ++j) uu[j] += row[j] * ki;
    }
    for (int64_t j = 0; j < Dv; ++j) uu[j] = (v[j] - decay * uu[j]) * beta;
    float* o = a.out.row(t) + h * Dv;
    for (int64_t j = 0; j < Dv; ++j) o[j] = 0;
    for (int64_t i = 0; i < Dk; ++i) {
      const float ki = k[i], qi = q[i];
      float* row = S + i * Dv;
      for (int64_t j = 0; j < Dv; ++j) {
        row[j] = row[j] * decay + ki * uu[j];
        o[j] += row[j] * qi;
      }
    }
  }
}

__attribute__((target_clones("arch=x86-64-v3", "default")))
void chunked_head(const DeltaRuleArgs& a, int64_t h, const float* qn, const float* kn, float* S) {
  const int64_t n = a.q.rows, Dk = a.dk, Dv = a.dv, C = a.chunk;
  const auto at = [](std::vector<float>& v, int64_t i) -> float& { return v[static_cast<size_t>(i)]; };
  std::vector<float> cum(static_cast<size_t>(C)), A(static_cast<size_t>(C * C)), intra(static_cast<size_t>(C * C));
  std::vector<float> U(static_cast<size_t>(C * Dv)), W(static_cast<size_t>(C * Dk)), vnew(static_cast<size_t>(C * Dv));
  for (int64_t c0 = 0; c0 < n; c0 += C) {
    const int64_t L = std::min(C, n - c0);
    float acc = 0;
    for (int64_t i = 0; i < L; ++i) at(cum, i) = (acc += a.g.row(c0 + i)[h]);
    // Strictly lower A[i][j] = β_i (k_i·k_j) e^{cum_i − cum_j}; intra[i][j] = (q_i·k_j) e^{cum_i − cum_j}, j ≤ i.
    for (int64_t i = 0; i < L; ++i) {
      const float* ki = kn + (c0 + i) * Dk;
      const float* qi = qn + (c0 + i) * Dk;
      const float bi = a.beta.row(c0 + i)[h];
      for (int64_t j = 0; j <= i; ++j) {
        const float* kj = kn + (c0 + j) * Dk;
        const float decay = std::exp(at(cum, i) - at(cum, j));
        if (j < i) at(A, i * C + j) = bi * dot_f32(ki, kj, Dk) * decay;
        at(intra, i * C + j) = dot_f32(qi, kj, Dk) * decay;
      }
    }
    // Forward substitution with the unit lower-triangular (I + A):
    //   U = (I + A)⁻¹ (β v),  W = (I + A)⁻¹ (β k e^{cum}).
    for (int64_t i = 0; i < L; ++i) {
      const float bi = a.beta.row(c0 + i)[h];
      const float* v = a.v.row(c0 + i) + h * Dv;
      const float* k = kn + (c0 + i) * Dk;
      const float e = std::exp(at(cum, i));
      float* u = &at(U, i * Dv);
      float* w = &at(W, i * Dk);
      for (int64_t d = 0; d < Dv; ++d) u[d] = v[d] * bi;
      for (int64_t d = 0; d < Dk; ++d) w[d] = k[d] * bi * e;
      for (int64_t j = 0; j < i; ++j) {
        const float aij = at(A, i * C + j);
        const float* uj = &at(U, j * Dv);
        const float* wj = &at(W, j * Dk);
        for (int64_t d = 0; d < Dv; ++d) u[d] -= aij * uj[d];
        for (int64_t d = 0; d < Dk; ++d) w[d] -= aij * wj[d];
      }
    }
    // v_new = U − W S;  out_i = e^{cum_i} q_i S + Σ_{j≤i} intra[i][j] v_new_j.
    for (int64_t i = 0; i < L; ++i) {
      float* vn = &at(vnew, i * Dv);
      const float* u = &at(U, i * Dv);
      const float* w = &at(W, i * Dk);
      for (int64_t d = 0; d < Dv; ++d) vn[d] = u[d];
      float* o = a.out.row(c0 + i) + h * Dv;
      for (int64_t d = 0; d < Dv; ++d) o[d] = 0;
      const float* q = qn + (c0 + i) * Dk;
      const float e = std::exp(at(cum, i));
      for (int64_t r = 0; r < Dk; ++r) {
        const float* srow = S + r * Dv;
        const float wr = w[r], qr = q[r] * e;
        for (int64_t d = 0; d < Dv; ++d) {
          vn[d] -= wr * srow[d];
          o[d] += qr * srow[d];
        }
      }
    }
    for (int64_t i = 0; i < L; ++i) {
      float* o = a.out.row(c0 + i) + h * Dv;
      for (int64_t j = 0; j <= i; ++j) {
        const float c = at(intra, i * C + j);
        const float* vn = &at(vnew, j * Dv);
        for (int64_t d = 0; d < Dv; ++d) o[d] += c * vn[d];
      }
    }
    // S = e^{cum_last} S + Σ_j (k_j e^{cum_last − cum_j}) v_new_jᵀ.
    const float last = at(cum, L - 1);
    const float chunk_decay = std::exp(last);
    for (int64_t i = 0; i < Dk * Dv; ++i) S[i] *= chunk_decay;
    for (int64_t j = 0; j < L; ++j) {
      const float* k = kn + (c0 + j) * Dk;
      const float e = std::exp(last - at(cum, j));
      const float* vn = &at(vnew, j * Dv);
      for (int64_t r = 0; r < Dk; ++r) {
        const float kr = k[r] * e;
        float* srow = S + r * Dv;
        for (int64_t d = 0; d < Dv; ++d) srow[d] += kr * vn[d];
      }
    }
  }
}

}  // namespace

void delta_rule(ThreadPool& pool, const DeltaRuleArgs& a) {
  const int64_t Hk = a.k_heads, Hv = a.v_heads;
  if (Hk <= 0 || Hv % Hk != 0 || a.q.cols != Hk * a.dk || a.k.cols != Hk * a.dk || a.v.cols != Hv * a.dv ||
      a.out.cols != Hv * a.dv || a.g.cols != Hv || a.beta.cols != Hv || a.chunk <= 0) {
    throw Error("delta_rule: inconsistent shapes");
  }
  const int64_t ratio = Hv / Hk;
  pool.parallel_for(Hv, [&](int64_t begin, int64_t end) {
    std::vector<float> qn, kn;
    int64_t cached = -1;
    for (int64_t h = begin; h < end; ++h) {
      const int64_t kh = h / ratio;  // consecutive value heads share a key head
      if (kh != cached) {
        normalised_qk(a, kh, qn, kn);
        cached = kh;
      }
      float* S = a.state + h * a.dk * a.dv;
      if (a.mode == DeltaRuleMode::recurrent) recurrent_head(a, h, qn.data(), kn.data(), S);
      else chunked_head(a, h, qn.data(), kn.data(), S);
    }
  });
}

}  // namespace hearth::engine::cpu
