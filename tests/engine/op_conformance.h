#pragma once
// Op conformance: runs every op of engine/ops.h on the same random inputs on two backends and returns
// the largest relative difference per op. Inputs are built on the host and moved with each backend's
// upload(); outputs come back with download(), so a device backend (CUDA) is checked against the CPU
// reference with exactly the argument structs the model uses:
//
//   cpu::CpuOps cpu(1); CudaOps cuda; auto diffs = run_op_conformance(cpu, cuda);
//   for (auto& d : diffs) EXPECT_LT(d.relative_error, d.tolerance) << d.op;
#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "engine/ops.h"

namespace hearth::engine::testing {

struct OpDifference {
  std::string op;
  double relative_error = 0;
  double tolerance = 0;
};

namespace conformance_detail {

// A buffer on one backend, filled from host values.
struct Buf {
  Ops* ops = nullptr;
  void* ptr = nullptr;
  size_t bytes = 0;
  Buf(Ops& o, const void* host, size_t n) : ops(&o), ptr(o.alloc(n)), bytes(n) {
    if (host && n) o.upload(ptr, host, n);
  }
  Buf(const Buf&) = delete;
  ~Buf() { ops->release(ptr); }
  float* f() const { return static_cast<float*>(ptr); }
  template <typename T>
  std::vector<T> read() const {
    std::vector<T> v(bytes / sizeof(T));
    ops->download(v.data(), ptr, bytes);
    return v;
  }
};

inline double rel(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0, s = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    d = std::max(d, double(std::fabs(a[i] - b[i])));
    s = std::max(s, double(std::fabs(b[i])));
  }
  return a.size() != b.size() ? INFINITY : (s > 0 ? d / s : d);
}

struct Rand {
  std::mt19937 gen;
  explicit Rand(uint32_t seed) : gen(seed) {}
  std::vector<float> normal(size_t n, float sd = 1) {
    std::normal_distribution<float> d(0, sd);
    std::vector<float> v(n);
    for (auto& x : v) x = d(gen);
    return v;
  }
  std::vector<float> uniform(size_t n, float lo, float hi) {
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = d(gen);
    return v;
  }
};

}  // namespace conformance_detail

// Random packed weights of one format (host bytes), as in MLX files. `storage` keeps the bytes.
struct HostWeight {
  std::vector<uint8_t> data, scales, biases;
  WeightMatrix m;
};

inline HostWeight random_weight(WeightFormat f, int bits, int group, int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 gen(seed);
  HostWeight w;
  w.m.format = f;
  w.m.rows = rows;
  w.m.cols = cols;
  w.m.bits = bits;
  w.m.group_size = group;
  w.m.dtype = f == WeightFormat::dense || f == WeightFormat::affine ? DType::bf16 : DType::u8;
  w.data.resize(w.m.data_bytes());
  if (f == WeightFormat::dense) {
    std::normal_distribution<float> d(0, 0.5f);
    for (size_t i = 0; i < w.data.size() / 2; ++i) {
      uint16_t h = f32_to_bf16(d(gen));
      std::memcpy(&w.data[2 * i], &h, 2);
    }
  } else {
    for (auto& b : w.data) b = static_cast<uint8_t>(gen());
    if (f == WeightFormat::mxfp8) for (auto& b : w.data) if ((b & 0x7f) == 0x7f) b = 0;
    const size_t groups = static_cast<size_t>(rows * w.m.groups());
    if (f == WeightFormat::affine) {
      std::normal_distribution<float> d(0, 0.05f);
      w.scales.resize(groups * 2);
      w.biases.resize(groups * 2);
      for (size_t i = 0; i < groups; ++i) {
        uint16_t s = f32_to_bf16(d(gen)), b = f32_to_bf16(d(gen) * 4);
        std::memcpy(&w.scales[2 * i], &s, 2);
        std::memcpy(&w.biases[2 * i], &b, 2);
      }
    } else {
      w.scales.resize(groups);
      for (auto& s : w.scales) s = static_cast<uint8_t>(f == WeightFormat::nvfp4 ? 0x28 + gen() % 16 : 121 + gen() % 6);
    }
  }
  w.m.data = w.data.data();
  w.m.scales = w.scales.empty() ? nullptr : w.scales.data();
  w.m.biases = w.biases.empty() ? nullptr : w.biases.data();
  return w;
}

// Every op on `reference` and `candidate`, same inputs. Tolerances are float32 rounding budgets.
// `before_reference` / `before_candidate` run before each side (e.g. to switch CPU kernel variants).
inline std::vector<OpDifference> run_op_conformance(Ops& reference, Ops& candidate, uint32_t seed = 7,
                                                    std::function<void()> before_reference = {},
                                                    std::function<void()> before_candidate = {}) {
  using namespace conformance_detail;
  std::vector<OpDifference> out;
  auto compare = [&](const std::string& name, double tol, const std::function<std::vector<std::vector<float>>(Ops&)>& run) {
    if (before_reference) before_reference();
    const auto a = run(reference);
    if (before_candidate) before_candidate();
    const auto b = run(candidate);
    double worst = 0;
    for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, rel(b[i], a[i]));
    out.push_back({name, worst, tol});
  };
  auto T = [](const Buf& b, int64_t rows, int64_t cols) { return Tensor::contiguous(b.f(), rows, cols); };
  const size_t F = sizeof(float);

  // matmul, every format, 1 and 9 tokens
  struct Fmt {
    const char* name;
    WeightFormat f;
    int bits, group;
  };
  for (const Fmt fm : {Fmt{"bf16", WeightFormat::dense, 0, 0}, Fmt{"affine4_g64", WeightFormat::affine, 4, 64},
                       Fmt{"affine8_g32", WeightFormat::affine, 8, 32}, Fmt{"affine3_g128", WeightFormat::affine, 3, 128},
                       Fmt{"mxfp4", WeightFormat::mxfp4, 4, 32}, Fmt{"nvfp4", WeightFormat::nvfp4, 4, 16},
                       Fmt{"mxfp8", WeightFormat::mxfp8, 8, 32}}) {
    HostWeight hw = random_weight(fm.f, fm.bits, fm.group, 96, 256, seed);
    for (int64_t n : {1, 9}) {
      Rand r(seed + static_cast<uint32_t>(n));
      const auto x = r.normal(static_cast<size_t>(n * 256));
      compare(std::string("matmul/") + fm.name + "/n" + std::to_string(n), 1e-5, [&](Ops& o) {
        WeightMatrix w = o.place_weight(hw.m);
        Buf bx(o, x.data(), x.size() * F), by(o, nullptr, static_cast<size_t>(n * 96) * F);
        o.matmul({&w, T(bx, n, 256), T(by, n, 96), false});
        o.synchronize();
        return std::vector<std::vector<float>>{by.read<float>()};
      });
    }
  }
  Rand r(seed);
  {  // embed (quantized table)
    HostWeight hw = random_weight(WeightFormat::affine, 4, 64, 50, 128, seed);
    const std::vector<Token> toks = {3, 49, 0, 17};
    compare("embed", 1e-6, [&](Ops& o) {
      WeightMatrix w = o.place_weight(hw.m);
      Buf by(o, nullptr, 4 * 128 * F);
      o.embed({&w, toks, T(by, 4, 128)});
      o.synchronize();
      return std::vector<std::vector<float>>{by.read<float>()};
    });
  }
  {  // rms_norm (per head) and gated rms_norm
    const auto x = r.normal(5 * 64), w = r.normal(16), z = r.normal(5 * 64);
    compare("rms_norm", 1e-5, [&](Ops& o) {
      Buf bx(o, x.data(), x.size() * F), bw(o, w.data(), w.size() * F), by(o, nullptr, x.size() * F);
      o.rms_norm({T(bx, 5, 64), T(by, 5, 64), bw.f(), 16, 1e-6f});
      return std::vector<std::vector<float>>{by.read<float>()};
    });
    compare("gated_rms_norm", 1e-5, [&](Ops& o) {
      Buf bx(o, x.data(), x.size() * F), bz(o, z.data(), z.size() * F), bw(o, w.data(), w.size() * F);
      o.gated_rms_norm({T(bx, 5, 64), T(bz, 5, 64), bw.f(), 16, 1e-6f});
      return std::vector<std::vector<float>>{bx.read<float>()};
    });
  }
  {  // rope
    const auto x = r.normal(3 * 4 * 32);
    compare("rope", 1e-5, [&](Ops& o) {
      Buf bx(o, x.data(), x.size() * F);
      o.rope({T(bx, 3, 128), 4, 32, 8, 1000, 1e7f});
      return std::vector<std::vector<float>>{bx.read<float>()};
    });
  }
  {  // attention over a cache
    const int64_t cap = 40, first = 30, n = 3, H = 4, KV = 2, D = 32;
    const auto q = r.normal(n * H * D), k = r.normal(cap * KV * D), v = r.normal(cap * KV * D);
    compare("attention", 1e-5, [&](Ops& o) {
      Buf bq(o, q.data(), q.size() * F), bk(o, k.data(), k.size() * F), bv(o, v.data(), v.size() * F),
          bo(o, nullptr, n * H * D * F);
      o.attention({T(bq, n, H * D), T(bk, cap, KV * D), T(bv, cap, KV * D), first, H, KV, D, 0.17f, T(bo, n, H * D)});
      return std::vector<std::vector<float>>{bo.read<float>()};
    });
  }
  {  // conv1d with state
    const int64_t n = 6, C = 48, K = 4;
    const auto x = r.normal(n * C), w = r.normal(C * K), s = r.normal((K - 1) * C);
    compare("conv1d", 1e-5, [&](Ops& o) {
      Buf bx(o, x.data(), x.size() * F), bw(o, w.data(), w.size() * F), bs(o, s.data(), s.size() * F), bo(o, nullptr, n * C * F);
      o.conv1d({T(bx, n, C), bs.f(), bw.f(), K, true, T(bo, n, C)});
      return std::vector<std::vector<float>>{bo.read<float>(), bs.read<float>()};
    });
  }
  {  // delta gates + both delta-rule forms
    const int64_t n = 70, Hk = 2, Hv = 4, Dk = 16, Dv = 16;
    const auto a = r.normal(n * Hv), b = r.normal(n * Hv), alog = r.uniform(Hv, -1, 1), dtb = r.normal(Hv);
    compare("delta_gates", 1e-5, [&](Ops& o) {
      Buf ba(o, a.data(), a.size() * F), bb(o, b.data(), b.size() * F), bl(o, alog.data(), alog.size() * F),
          bd(o, dtb.data(), dtb.size() * F), bg(o, nullptr, a.size() * F), bt(o, nullptr, a.size() * F);
      o.delta_gates({T(ba, n, Hv), T(bb, n, Hv), bl.f(), bd.f(), T(bg, n, Hv), T(bt, n, Hv)});
      return std::vector<std::vector<float>>{bg.read<float>(), bt.read<float>()};
    });
    const auto q = r.normal(n * Hk * Dk), k = r.normal(n * Hk * Dk), v = r.normal(n * Hv * Dv);
    const auto g = r.uniform(n * Hv, -1.5f, 0), beta = r.uniform(n * Hv, 0, 1), s0 = r.normal(Hv * Dk * Dv, 0.2f);
    for (DeltaRuleMode mode : {DeltaRuleMode::recurrent, DeltaRuleMode::chunked}) {
      compare(mode == DeltaRuleMode::chunked ? "delta_rule/chunked" : "delta_rule/recurrent", 1e-5, [&](Ops& o) {
        Buf bq(o, q.data(), q.size() * F), bk(o, k.data(), k.size() * F), bv(o, v.data(), v.size() * F),
            bg(o, g.data(), g.size() * F), bb(o, beta.data(), beta.size() * F), bs(o, s0.data(), s0.size() * F),
            bo(o, nullptr, n * Hv * Dv * F);
        o.delta_rule({T(bq, n, Hk * Dk), T(bk, n, Hk * Dk), T(bv, n, Hv * Dv), T(bg, n, Hv), T(bb, n, Hv), bs.f(), Hk, Hv, Dk,
                      Dv, mode, 64, T(bo, n, Hv * Dv)});
        return std::vector<std::vector<float>>{bo.read<float>(), bs.read<float>()};
      });
    }
  }
  {  // elementwise
    const auto x = r.normal(4 * 2 * 24), y = r.normal(4 * 24), gate = r.normal(4 * 24), rg = r.normal(4);
    compare("split_query_gate", 0, [&](Ops& o) {
      Buf bx(o, x.data(), x.size() * F), bq(o, nullptr, 4 * 24 * F), bg(o, nullptr, 4 * 24 * F);
      o.split_query_gate({T(bx, 4, 48), 2, 12, T(bq, 4, 24), T(bg, 4, 24)});
      return std::vector<std::vector<float>>{bq.read<float>(), bg.read<float>()};
    });
    compare("sigmoid_mul", 1e-6, [&](Ops& o) {
      Buf by(o, y.data(), y.size() * F), bg(o, gate.data(), gate.size() * F);
      o.sigmoid_mul({T(by, 4, 24), T(bg, 4, 24)});
      return std::vector<std::vector<float>>{by.read<float>()};
    });
    compare("swiglu", 1e-6, [&](Ops& o) {
      Buf by(o, y.data(), y.size() * F), bg(o, gate.data(), gate.size() * F), bo(o, nullptr, y.size() * F);
      o.swiglu({T(bg, 4, 24), T(by, 4, 24), T(bo, 4, 24)});
      return std::vector<std::vector<float>>{bo.read<float>()};
    });
    compare("add/row_gate", 1e-6, [&](Ops& o) {
      Buf by(o, y.data(), y.size() * F), bg(o, gate.data(), gate.size() * F), br(o, rg.data(), rg.size() * F);
      o.add({T(by, 4, 24), T(bg, 4, 24), T(br, 4, 1)});
      o.add({T(by, 4, 24), T(bg, 4, 24), {}});
      return std::vector<std::vector<float>>{by.read<float>()};
    });
  }
  {  // routing + experts
    const int64_t n = 5, H = 64, I = 32, E = 6, k = 2;
    const auto logits = r.normal(n * E, 2), x = r.normal(n * H);
    std::vector<HostWeight> gw, uw, dw;
    for (int64_t e = 0; e < E; ++e) {
      gw.push_back(random_weight(WeightFormat::affine, 4, 32, I, H, seed + 10 + e));
      uw.push_back(random_weight(WeightFormat::affine, 4, 32, I, H, seed + 20 + e));
      dw.push_back(random_weight(WeightFormat::affine, 4, 32, H, I, seed + 30 + e));
    }
    compare("route+moe", 1e-5, [&](Ops& o) {
      Buf bl(o, logits.data(), logits.size() * F), bx(o, x.data(), x.size() * F), bi(o, nullptr, n * k * sizeof(int32_t)),
          bw(o, nullptr, n * k * F), bo(o, nullptr, n * H * F);
      WeightStack g, u, d;
      for (int64_t e = 0; e < E; ++e) {
        g.experts.push_back(o.place_weight(gw[e].m));
        u.experts.push_back(o.place_weight(uw[e].m));
        d.experts.push_back(o.place_weight(dw[e].m));
      }
      o.route({T(bl, n, E), k, true, static_cast<int32_t*>(bi.ptr), bw.f()});
      o.moe({T(bx, n, H), &g, &u, &d, static_cast<int32_t*>(bi.ptr), bw.f(), k, T(bo, n, H)});
      const auto idx = bi.read<int32_t>();
      std::vector<float> idx_f(idx.begin(), idx.end());
      return std::vector<std::vector<float>>{idx_f, bw.read<float>(), bo.read<float>()};
    });
  }
  return out;
}

}  // namespace hearth::engine::testing
