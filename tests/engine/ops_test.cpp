// The CPU ops on fresh random inputs against naive formulas (double precision), and the two forms
// of each op against each other (chunked vs recurrent delta rule, AVX2 vs portable kernels,
// streaming vs one-shot conv1d).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "engine/cpu/cpu_ops.h"
#include "engine/cpu/dot_kernels.h"
#include "reference_data.h"

namespace hearth::engine::cpu {
namespace {

using hearth::engine::testing::relative_error;

struct Random {
  std::mt19937 gen{12345};
  std::vector<float> normal(size_t n, float sd = 1.0f) {
    std::normal_distribution<float> d(0.0f, sd);
    std::vector<float> v(n);
    for (auto& x : v) x = d(gen);
    return v;
  }
  std::vector<uint8_t> bytes(size_t n) {
    std::vector<uint8_t> v(n);
    for (auto& x : v) x = static_cast<uint8_t>(gen());
    return v;
  }
};

Tensor view(std::vector<float>& v, int64_t rows, int64_t cols) { return Tensor::contiguous(v.data(), rows, cols); }

// ---- delta rule -------------------------------------------------------------------------------------

struct DeltaCase {
  int64_t n, hk, hv, dk, dv, chunk;
};

class DeltaRuleForms : public ::testing::TestWithParam<DeltaCase> {};

TEST_P(DeltaRuleForms, ChunkedEqualsRecurrentForOutputsAndFinalState) {
  const DeltaCase c = GetParam();
  Random rnd;
  CpuOps ops(2);
  auto q = rnd.normal(c.n * c.hk * c.dk), k = rnd.normal(c.n * c.hk * c.dk), v = rnd.normal(c.n * c.hv * c.dv);
  std::vector<float> g(c.n * c.hv), beta(c.n * c.hv);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (auto& x : g) x = -2.0f * u(rnd.gen);  // log decays
  for (auto& x : beta) x = u(rnd.gen);
  const auto initial = rnd.normal(c.hv * c.dk * c.dv, 0.3f);
  std::vector<float> s1 = initial, s2 = initial, o1(c.n * c.hv * c.dv), o2(c.n * c.hv * c.dv);
  auto args = [&](std::vector<float>& s, std::vector<float>& o, DeltaRuleMode mode) {
    return DeltaRuleArgs{view(q, c.n, c.hk * c.dk), view(k, c.n, c.hk * c.dk), view(v, c.n, c.hv * c.dv), view(g, c.n, c.hv),
                         view(beta, c.n, c.hv), s.data(), c.hk, c.hv, c.dk, c.dv, mode, c.chunk, view(o, c.n, c.hv * c.dv)};
  };
  ops.delta_rule(args(s1, o1, DeltaRuleMode::recurrent));
  ops.delta_rule(args(s2, o2, DeltaRuleMode::chunked));
  EXPECT_LT(relative_error(o2.data(), o1.data(), o1.size()), 1e-5);
  EXPECT_LT(relative_error(s2.data(), s1.data(), s1.size()), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Shapes, DeltaRuleForms,
                         ::testing::Values(DeltaCase{1, 1, 1, 8, 8, 64}, DeltaCase{7, 2, 4, 16, 8, 4}, DeltaCase{70, 2, 4, 16, 16, 64},
                                           DeltaCase{130, 1, 2, 32, 16, 64}, DeltaCase{33, 3, 3, 8, 12, 8}));

TEST(DeltaRule, RecurrentStepMatchesTheDefiningFormula) {
  // One token, one head, by hand: S = S·e^g; u = β(v − Sᵀk̂); S += k̂ uᵀ; o = Sᵀq̂/√Dk.
  Random rnd;
  CpuOps ops(1);
  const int64_t dk = 4, dv = 3;
  auto q = rnd.normal(dk), k = rnd.normal(dk), v = rnd.normal(dv), S = rnd.normal(dk * dv);
  std::vector<float> g = {-0.3f}, beta = {0.7f}, out(dv);
  std::vector<double> Sd(S.begin(), S.end());
  auto norm = [](std::vector<float> x) {
    double s = 0;
    for (float f : x) s += double(f) * f;
    std::vector<double> r;
    for (float f : x) r.push_back(f / std::sqrt(s + 1e-6));
    return r;
  };
  auto qn = norm(q), kn = norm(k);
  for (auto& x : Sd) x *= std::exp(-0.3);
  std::vector<double> u(dv);
  for (int j = 0; j < dv; ++j) {
    double m = 0;
    for (int i = 0; i < dk; ++i) m += Sd[i * dv + j] * kn[i];
    u[j] = 0.7 * (v[j] - m);
  }
  std::vector<double> o(dv, 0.0);
  for (int i = 0; i < dk; ++i)
    for (int j = 0; j < dv; ++j) {
      Sd[i * dv + j] += kn[i] * u[j];
      o[j] += Sd[i * dv + j] * qn[i] / std::sqrt(double(dk));
    }
  ops.delta_rule({view(q, 1, dk), view(k, 1, dk), view(v, 1, dv), view(g, 1, 1), view(beta, 1, 1), S.data(), 1, 1, dk, dv,
                  DeltaRuleMode::recurrent, 64, view(out, 1, dv)});
  for (int j = 0; j < dv; ++j) EXPECT_NEAR(out[j], o[j], 1e-5);
  for (int i = 0; i < dk * dv; ++i) EXPECT_NEAR(S[i], Sd[i], 1e-5);
}

// ---- conv1d, attention, norms, rope, router ------------------------------------------------------

TEST(Conv1d, StreamingInPiecesEqualsOneShotAndLeavesTheSameState) {
  Random rnd;
  CpuOps ops(2);
  const int64_t n = 23, C = 70, K = 4;
  auto x = rnd.normal(n * C), w = rnd.normal(C * K);
  std::vector<float> s1((K - 1) * C), s2((K - 1) * C), o1(n * C), o2(n * C);
  ops.conv1d({view(x, n, C), s1.data(), w.data(), K, true, view(o1, n, C)});
  for (int64_t t0 = 0; t0 < n; t0 += 5) {
    const int64_t m = std::min<int64_t>(5, n - t0);
    Tensor xs = view(x, n, C).rows_slice(t0, m), os = view(o2, n, C).rows_slice(t0, m);
    ops.conv1d({xs, s2.data(), w.data(), K, true, os});
  }
  EXPECT_EQ(o1, o2);
  EXPECT_EQ(s1, s2);
  // Output of token t, channel c, by the definition (zeros before the sequence).
  const int64_t t = 2, c = 5;
  double s = 0;
  for (int64_t i = 0; i < K; ++i) {
    const int64_t src = t - (K - 1) + i;
    if (src >= 0) s += double(w[c * K + i]) * x[src * C + c];
  }
  EXPECT_NEAR(o1[t * C + c], s / (1 + std::exp(-s)), 1e-5);
}

TEST(Attention, CausalGroupedQueryAttentionMatchesNaiveSoftmax) {
  Random rnd;
  CpuOps ops(2);
  const int64_t first = 5, n = 4, H = 6, KV = 2, D = 8, cap = 16;
  auto q = rnd.normal(n * H * D), kc = rnd.normal(cap * KV * D), vc = rnd.normal(cap * KV * D);
  std::vector<float> out(n * H * D);
  const float scale = 0.3f;
  ops.attention({view(q, n, H * D), view(kc, cap, KV * D), view(vc, cap, KV * D), first, H, KV, D, scale, view(out, n, H * D)});
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t h = 0; h < H; ++h) {
      const int64_t kvh = h / (H / KV), len = first + t + 1;
      std::vector<double> s(len);
      double mx = -1e30, sum = 0;
      for (int64_t p = 0; p < len; ++p) {
        double d = 0;
        for (int64_t i = 0; i < D; ++i) d += double(q[(t * H + h) * D + i]) * kc[(p * KV + kvh) * D + i];
        s[p] = d * scale;
        mx = std::max(mx, s[p]);
      }
      for (auto& x : s) sum += (x = std::exp(x - mx));
      for (int64_t i = 0; i < D; ++i) {
        double o = 0;
        for (int64_t p = 0; p < len; ++p) o += s[p] / sum * vc[(p * KV + kvh) * D + i];
        EXPECT_NEAR(out[(t * H + h) * D + i], o, 1e-5);
      }
    }
  }
}

TEST(RmsNorm, PerGroupNormalisationTimesWeight) {
  Random rnd;
  CpuOps ops(1);
  auto x = rnd.normal(2 * 8), w = rnd.normal(4);
  std::vector<float> out(16);
  ops.rms_norm({view(x, 2, 8), view(out, 2, 8), w.data(), 4, 1e-6f});
  for (int r = 0; r < 2; ++r)
    for (int g = 0; g < 2; ++g) {
      double ss = 0;
      for (int j = 0; j < 4; ++j) ss += double(x[r * 8 + g * 4 + j]) * x[r * 8 + g * 4 + j];
      const double inv = 1 / std::sqrt(ss / 4 + 1e-6);
      for (int j = 0; j < 4; ++j) EXPECT_NEAR(out[r * 8 + g * 4 + j], x[r * 8 + g * 4 + j] * inv * w[j], 1e-5);
    }
}

TEST(Rope, RotatesOnlyTheFirstRotaryDimsRotateHalfStyle) {
  Random rnd;
  CpuOps ops(1);
  const int64_t H = 2, D = 8, R = 4, pos = 7;
  auto x = rnd.normal(H * D);
  const auto orig = x;
  ops.rope({view(x, 1, H * D), H, D, R, pos, 10000.0f});
  for (int h = 0; h < H; ++h) {
    for (int i = 0; i < R / 2; ++i) {
      const double f = pos / std::pow(10000.0, 2.0 * i / R);
      const double x1 = orig[h * D + i], x2 = orig[h * D + i + R / 2];
      EXPECT_NEAR(x[h * D + i], x1 * std::cos(f) - x2 * std::sin(f), 1e-5);
      EXPECT_NEAR(x[h * D + i + R / 2], x2 * std::cos(f) + x1 * std::sin(f), 1e-5);
    }
    for (int i = R; i < D; ++i) EXPECT_EQ(x[h * D + i], orig[h * D + i]);
  }
}

TEST(Router, SoftmaxTopKRenormalisedBestFirst) {
  CpuOps ops(1);
  std::vector<float> logits = {0.1f, 2.0f, -1.0f, 1.5f, 0.0f};
  std::vector<int32_t> idx(2);
  std::vector<float> w(2);
  ops.route({view(logits, 1, 5), 2, true, idx.data(), w.data()});
  EXPECT_EQ(idx, (std::vector<int32_t>{1, 3}));
  const double a = std::exp(2.0), b = std::exp(1.5);
  EXPECT_NEAR(w[0], a / (a + b), 1e-6);
  EXPECT_NEAR(w[1], b / (a + b), 1e-6);
  ops.route({view(logits, 1, 5), 2, false, idx.data(), w.data()});
  double z = 0;
  for (float l : logits) z += std::exp(double(l));
  EXPECT_NEAR(w[0], a / z, 1e-6);
}

// ---- matmul over every weight format --------------------------------------------------------------

struct FormatCase {
  const char* name;
  WeightFormat format;
  DType dtype;
  int bits, group;
};

class MatmulFormats : public ::testing::TestWithParam<FormatCase> {};

// Random storage of the format: any bit pattern of the codes is valid; scales sane.
struct Storage {
  std::vector<uint8_t> data, scales, biases;
  WeightMatrix m;
};

Storage make_storage(const FormatCase& f, int64_t rows, int64_t cols, Random& rnd) {
  Storage s;
  WeightMatrix& m = s.m;
  m.format = f.format;
  m.dtype = f.dtype;
  m.rows = rows;
  m.cols = cols;
  m.bits = f.bits;
  m.group_size = f.group;
  if (f.format == WeightFormat::dense) {
    auto v = rnd.normal(rows * cols);
    s.data.resize(m.data_bytes());
    for (size_t i = 0; i < v.size(); ++i) {
      if (f.dtype == DType::f32) std::memcpy(&s.data[i * 4], &v[i], 4);
      else {
        uint16_t h = f.dtype == DType::bf16 ? f32_to_bf16(v[i]) : f32_to_f16(v[i]);
        std::memcpy(&s.data[i * 2], &h, 2);
      }
    }
  } else {
    s.data = rnd.bytes(m.data_bytes());
    if (f.format == WeightFormat::mxfp8) {
      for (auto& b : s.data) if ((b & 0x7f) == 0x7f) b = 0;  // E4M3 NaN codes
    }
    const size_t groups = static_cast<size_t>(rows * m.groups());
    if (f.format == WeightFormat::affine) {
      auto sc = rnd.normal(groups, 0.1f), bi = rnd.normal(groups, 0.5f);  // negative scales included
      s.scales.resize(groups * 2);
      s.biases.resize(groups * 2);
      for (size_t i = 0; i < groups; ++i) {
        uint16_t a = f32_to_bf16(sc[i]), b = f32_to_bf16(bi[i]);
        std::memcpy(&s.scales[i * 2], &a, 2);
        std::memcpy(&s.biases[i * 2], &b, 2);
      }
      m.biases = s.biases.data();
    } else {
      s.scales.resize(groups);
      for (auto& x : s.scales) x = static_cast<uint8_t>(f.format == WeightFormat::nvfp4 ? 0x30 + rnd.gen() % 16 : 120 + rnd.gen() % 10);
    }
    m.scales = s.scales.data();
  }
  m.data = s.data.data();
  return s;
}

TEST_P(MatmulFormats, EveryIsaAndTokenCountMatchesTheDecodedDefinition) {
  const FormatCase f = GetParam();
  Random rnd;
  const int64_t rows = 37, cols = 256;
  Storage s = make_storage(f, rows, cols, rnd);
  CpuOps ops(2);
  for (int64_t n : {1, 3, 40}) {
    auto x = rnd.normal(n * cols);
    std::vector<double> expected(n * rows);
    for (int64_t t = 0; t < n; ++t)
      for (int64_t o = 0; o < rows; ++o) {
        double acc = 0;
        for (int64_t j = 0; j < cols; ++j) acc += double(weight_element(s.m, o, j)) * x[t * cols + j];
        expected[t * rows + o] = acc;
      }
    std::vector<float> exp_f(expected.begin(), expected.end());
    for (KernelIsa isa : {KernelIsa::portable, KernelIsa::avx2}) {
      set_isa_override(isa);
      std::vector<float> y(n * rows, 0.0f);
      ops.matmul({&s.m, view(x, n, cols), view(y, n, rows), false});
      EXPECT_LT(relative_error(y.data(), exp_f.data(), y.size()), 1e-5) << f.name << " n=" << n << " isa=" << int(isa);
      // accumulate adds to what is there
      std::vector<float> y2(n * rows, 1.0f);
      ops.matmul({&s.m, view(x, n, cols), view(y2, n, rows), true});
      for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y2[i], y[i] + 1.0f, 1e-4f * (1 + std::fabs(y[i])));
    }
    set_isa_override(best_isa());
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllFormats, MatmulFormats,
    ::testing::Values(FormatCase{"f32", WeightFormat::dense, DType::f32, 0, 0}, FormatCase{"bf16", WeightFormat::dense, DType::bf16, 0, 0},
                      FormatCase{"f16", WeightFormat::dense, DType::f16, 0, 0},
                      FormatCase{"affine2_g64", WeightFormat::affine, DType::bf16, 2, 64},
                      FormatCase{"affine3_g32", WeightFormat::affine, DType::bf16, 3, 32},
                      FormatCase{"affine4_g32", WeightFormat::affine, DType::bf16, 4, 32},
                      FormatCase{"affine4_g64", WeightFormat::affine, DType::bf16, 4, 64},
                      FormatCase{"affine4_g128", WeightFormat::affine, DType::bf16, 4, 128},
                      FormatCase{"affine5_g64", WeightFormat::affine, DType::bf16, 5, 64},
                      FormatCase{"affine6_g64", WeightFormat::affine, DType::bf16, 6, 64},
                      FormatCase{"affine8_g32", WeightFormat::affine, DType::bf16, 8, 32},
                      FormatCase{"affine8_g128", WeightFormat::affine, DType::bf16, 8, 128},
                      FormatCase{"mxfp4", WeightFormat::mxfp4, DType::u8, 4, 32},
                      FormatCase{"nvfp4", WeightFormat::nvfp4, DType::u8, 4, 16},
                      FormatCase{"mxfp8", WeightFormat::mxfp8, DType::u8, 8, 32}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Moe, RoutedExpertsEqualTheWeightedSumOfExpertMlps) {
  Random rnd;
  CpuOps ops(2);
  const int64_t n = 3, H = 32, I = 16, E = 4, k = 2;
  std::vector<std::vector<float>> gw, uw, dw;
  WeightStack gate, up, down;
  for (int64_t e = 0; e < E; ++e) {
    gw.push_back(rnd.normal(I * H));
    uw.push_back(rnd.normal(I * H));
    dw.push_back(rnd.normal(H * I));
  }
  for (int64_t e = 0; e < E; ++e) {
    gate.experts.push_back({WeightFormat::dense, DType::f32, I, H, 0, 0, gw[e].data(), nullptr, nullptr});
    up.experts.push_back({WeightFormat::dense, DType::f32, I, H, 0, 0, uw[e].data(), nullptr, nullptr});
    down.experts.push_back({WeightFormat::dense, DType::f32, H, I, 0, 0, dw[e].data(), nullptr, nullptr});
  }
  auto x = rnd.normal(n * H);
  std::vector<int32_t> idx = {0, 3, 2, 0, 1, 2};
  std::vector<float> w = {0.6f, 0.4f, 0.5f, 0.5f, 0.9f, 0.1f};
  std::vector<float> out(n * H, 0.0f);
  ops.moe({view(x, n, H), &gate, &up, &down, idx.data(), w.data(), k, view(out, n, H)});
  for (int64_t t = 0; t < n; ++t) {
    std::vector<double> expected(H, 0.0);
    for (int64_t j = 0; j < k; ++j) {
      const int e = idx[t * k + j];
      std::vector<double> act(I);
      for (int64_t i = 0; i < I; ++i) {
        double g = 0, u = 0;
        for (int64_t c = 0; c < H; ++c) {
          g += double(gw[e][i * H + c]) * x[t * H + c];
          u += double(uw[e][i * H + c]) * x[t * H + c];
        }
        act[i] = g / (1 + std::exp(-g)) * u;
      }
      for (int64_t c = 0; c < H; ++c) {
        double d = 0;
        for (int64_t i = 0; i < I; ++i) d += double(dw[e][c * I + i]) * act[i];
        expected[c] += w[t * k + j] * d;
      }
    }
    for (int64_t c = 0; c < H; ++c) EXPECT_NEAR(out[t * H + c], expected[c], 1e-3 * (1 + std::fabs(expected[c])));
  }
}

}  // namespace
}  // namespace hearth::engine::cpu
