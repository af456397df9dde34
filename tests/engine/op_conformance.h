#pragma once
// Op conformance: runs every op of engine/ops.h (the fused ones and the copies included) on the same
// random inputs on two backends and returns, per op, one error measure against a tolerance. Inputs are
// built on the host and moved with each backend's upload(); outputs come back with download(), so a
// device backend (CUDA) is checked against the CPU reference with exactly the argument structs the
// model uses. The same harness runs on every backend: CpuOps against CpuOps (op_conformance_test.cpp)
// and CudaOps against CpuOps (cuda_conformance_test.cpp, label gpu).
//
//   cpu::CpuOps cpu(1); CudaOps cuda; auto diffs = run_op_conformance(cpu, cuda);
//   for (auto& d : diffs) EXPECT_LE(d.relative_error, d.tolerance) << d.op;
//
// The measure (relative_error) is infinite for any NaN or infinity in either output, so a comparison
// can never pass by a NaN slipping through a max().
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/ops.h"

namespace hearth::engine::testing {

struct OpDifference {
  std::string op;
  double relative_error = 0;  // relative_error() of the op's worst output
  double tolerance = 0;       // passes when relative_error <= tolerance
};

// The one error measure of the harness: max |candidate − reference| over max |reference| (the plain
// max difference when the reference is all zeros). Infinite when the sizes differ or when any element
// of either side is NaN or infinite: the inputs are finite random values, so a non-finite output is a
// bug, never a rounding difference.
inline double relative_error(const std::vector<float>& candidate, const std::vector<float>& reference) {
  if (candidate.size() != reference.size()) return INFINITY;
  double d = 0, s = 0;
  for (size_t i = 0; i < candidate.size(); ++i) {
    if (!std::isfinite(candidate[i]) || !std::isfinite(reference[i])) return INFINITY;
    d = std::max(d, std::fabs(double(candidate[i]) - double(reference[i])));
    s = std::max(s, std::fabs(double(reference[i])));
  }
  return s > 0 ? d / s : d;
}

namespace conformance_detail {

// A buffer on one backend, filled from host values, or zeroed without them (outputs that ops
// accumulate into, and the padding of strided outputs, start equal on both backends).
struct Buf {
  Ops* ops = nullptr;
  void* ptr = nullptr;
  size_t bytes = 0;
  Buf(Ops& o, const void* host, size_t n) : ops(&o), ptr(o.alloc(n)), bytes(n) {
    if (host && n) o.upload(ptr, host, n);
    if (!host && n) o.zero(ptr, n);
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
    if (a.size() != b.size()) worst = INFINITY;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) worst = std::max(worst, relative_error(b[i], a[i]));
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
  for (const int64_t n : {int64_t{5}, int64_t{12}}) {  // routing + experts: decode-sized and prefill-sized batches
    const int64_t H = 64, I = 32, E = 6, k = 2;
    Rand rm(seed + 40 + static_cast<uint32_t>(n));
    const auto logits = rm.normal(n * E, 2), x = rm.normal(n * H);
    std::vector<HostWeight> gw, uw, dw;
    for (int64_t e = 0; e < E; ++e) {
      gw.push_back(random_weight(WeightFormat::affine, 4, 32, I, H, seed + 10 + e));
      uw.push_back(random_weight(WeightFormat::affine, 4, 32, I, H, seed + 20 + e));
      dw.push_back(random_weight(WeightFormat::affine, 4, 32, H, I, seed + 30 + e));
    }
    compare("route+moe/n" + std::to_string(n), 1e-5, [&](Ops& o) {
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
  {  // copy_tensor into a strided destination; write_rows at a host and at a device-held position
    const int64_t rows = 5, cols = 40, dst_stride = 48, cap = 12;
    const auto src = r.normal(rows * cols);
    compare("copy_tensor", 0, [&](Ops& o) {
      Buf bs(o, src.data(), src.size() * F), bd(o, nullptr, rows * dst_stride * F);
      o.copy_tensor({T(bs, rows, cols), Tensor{bd.f(), rows, cols, dst_stride}});
      o.synchronize();
      return std::vector<std::vector<float>>{bd.read<float>()};
    });
    const int64_t device_position = 7;
    compare("write_rows", 0, [&](Ops& o) {
      Buf bs(o, src.data(), src.size() * F), bd(o, nullptr, cap * cols * F), bp(o, &device_position, sizeof device_position);
      o.write_rows({T(bs, 3, cols), T(bd, cap, cols), 1, nullptr});
      o.write_rows({T(bs, 2, cols), T(bd, cap, cols), 0, static_cast<const int64_t*>(bp.ptr)});
      o.synchronize();
      return std::vector<std::vector<float>>{bd.read<float>()};
    });
  }
  // ---- the fused ops, at a decode-sized batch (device backends: one or few kernels) and past it (the
  // composition) ----
  {  // matmul_jobs: three products of one transformed input, one of them accumulating
    const int64_t cols = 256;
    const HostWeight w0 = random_weight(WeightFormat::affine, 4, 64, 96, cols, seed + 50),
                     w1 = random_weight(WeightFormat::affine, 8, 64, 64, cols, seed + 51),
                     w2 = random_weight(WeightFormat::dense, 0, 0, 32, cols, seed + 52);
    const HostWeight* hw[3] = {&w0, &w1, &w2};
    for (const InputTransform tr : {InputTransform::none, InputTransform::rms_norm, InputTransform::swiglu})
      for (const int64_t n : {int64_t{1}, int64_t{3}, int64_t{9}}) {
        Rand rj(seed + 60 + static_cast<uint32_t>(n));
        const auto x = rj.normal(n * cols), up = rj.normal(n * cols), nw = rj.normal(cols), y2 = rj.normal(n * 32);
        const char* tname = tr == InputTransform::none ? "none" : tr == InputTransform::rms_norm ? "rms_norm" : "swiglu";
        compare(std::string("matmul_jobs/") + tname + "/n" + std::to_string(n), 1e-5, [&](Ops& o) {
          WeightMatrix w[3];
          for (int j = 0; j < 3; ++j) w[j] = o.place_weight(hw[j]->m);
          Buf bx(o, x.data(), x.size() * F), bu(o, up.data(), up.size() * F), bn(o, nw.data(), nw.size() * F),
              bscr(o, nullptr, x.size() * F), b0(o, nullptr, n * 96 * F), b1(o, nullptr, n * 64 * F), b2(o, y2.data(), y2.size() * F);
          MatmulJobsArgs a;
          a.x = T(bx, n, cols);
          a.transform = tr;
          a.norm_weight = bn.f();
          a.up = T(bu, n, cols);
          a.scratch = T(bscr, n, cols);
          a.jobs[0] = {&w[0], T(b0, n, 96), false};
          a.jobs[1] = {&w[1], T(b1, n, 64), false};
          a.jobs[2] = {&w[2], T(b2, n, 32), true};
          a.job_count = 3;
          o.matmul_jobs(a);
          o.synchronize();
          return std::vector<std::vector<float>>{b0.read<float>(), b1.read<float>(), b2.read<float>()};
        });
      }
  }
  {  // moe_block: norm, router, top-k experts and a gated shared expert, added into the residual stream
    const int64_t H = 256, I = 64, IS = 64, E = 8, k = 2;
    const HostWeight router = random_weight(WeightFormat::affine, 8, 64, E, H, seed + 70),
                     sg = random_weight(WeightFormat::affine, 4, 64, IS, H, seed + 71),
                     su = random_weight(WeightFormat::affine, 4, 64, IS, H, seed + 72),
                     sd = random_weight(WeightFormat::affine, 4, 64, H, IS, seed + 73),
                     sgr = random_weight(WeightFormat::affine, 8, 64, 1, H, seed + 74);
    std::vector<HostWeight> gw, uw, dw;
    for (int64_t e = 0; e < E; ++e) {
      gw.push_back(random_weight(WeightFormat::affine, 4, 64, I, H, seed + 80 + e));
      uw.push_back(random_weight(WeightFormat::affine, 4, 64, I, H, seed + 90 + e));
      dw.push_back(random_weight(WeightFormat::affine, 4, 64, H, I, seed + 100 + e));
    }
    for (const int64_t n : {int64_t{1}, int64_t{3}, int64_t{9}}) {
      Rand rb(seed + 110 + static_cast<uint32_t>(n));
      const auto x = rb.normal(n * H), nw = rb.uniform(H, 0.5f, 1.5f);
      compare("moe_block/n" + std::to_string(n), 1e-5, [&](Ops& o) {
        const WeightMatrix wr = o.place_weight(router.m), wsg = o.place_weight(sg.m), wsu = o.place_weight(su.m),
                           wsd = o.place_weight(sd.m), wsgr = o.place_weight(sgr.m);
        WeightStack g, u, d;
        for (int64_t e = 0; e < E; ++e) {
          g.experts.push_back(o.place_weight(gw[e].m));
          u.experts.push_back(o.place_weight(uw[e].m));
          d.experts.push_back(o.place_weight(dw[e].m));
        }
        Buf bx(o, x.data(), x.size() * F), bn(o, nw.data(), nw.size() * F), bi(o, nullptr, n * k * sizeof(int32_t)),
            bw(o, nullptr, n * k * F), normed(o, nullptr, n * H * F), logits(o, nullptr, n * E * F),
            moe_out(o, nullptr, n * H * F), shared_out(o, nullptr, n * H * F), sga(o, nullptr, n * IS * F),
            sua(o, nullptr, n * IS * F), row_gate(o, nullptr, n * F);
        MoeBlockArgs a;
        a.x = T(bx, n, H);
        a.norm_weight = bn.f();
        a.router = &wr;
        a.gate = &g;
        a.up = &u;
        a.down = &d;
        a.top_k = k;
        a.shared_gate = &wsg;
        a.shared_up = &wsu;
        a.shared_down = &wsd;
        a.shared_gate_row = &wsgr;
        a.indices = static_cast<int32_t*>(bi.ptr);
        a.weights = bw.f();
        a.normed = T(normed, n, H);
        a.logits = T(logits, n, E);
        a.moe_out = T(moe_out, n, H);
        a.shared_out = T(shared_out, n, H);
        a.shared_gate_act = T(sga, n, IS);
        a.shared_up_act = T(sua, n, IS);
        a.row_gate = T(row_gate, n, 1);
        o.moe_block(a);
        o.synchronize();
        const auto idx = bi.read<int32_t>();
        std::vector<float> idx_f(idx.begin(), idx.end());
        return std::vector<std::vector<float>>{bx.read<float>(), idx_f, bw.read<float>()};
      });
    }
  }
  {  // delta_step: conv1d + gates + delta rule + gated RMSNorm, states updated
    const int64_t Hk = 2, Hv = 4, Dk = 32, Dv = 32, K = 4, C = 2 * Hk * Dk + Hv * Dv;
    for (const int64_t n : {int64_t{1}, int64_t{9}}) {
      Rand rd(seed + 120 + static_cast<uint32_t>(n));
      const auto qkv = rd.normal(n * C), z = rd.normal(n * Hv * Dv), a_in = rd.normal(n * Hv), b_in = rd.normal(n * Hv),
                 conv_s = rd.normal((K - 1) * C), conv_w = rd.normal(C * K, 0.5f), alog = rd.uniform(Hv, -1, 1),
                 dtb = rd.normal(Hv), s0 = rd.normal(Hv * Dk * Dv, 0.2f), nw = rd.uniform(Dv, 0.5f, 1.5f);
      compare("delta_step/n" + std::to_string(n), 1e-5, [&](Ops& o) {
        Buf bqkv(o, qkv.data(), qkv.size() * F), bz(o, z.data(), z.size() * F), ba(o, a_in.data(), a_in.size() * F),
            bb(o, b_in.data(), b_in.size() * F), bcs(o, conv_s.data(), conv_s.size() * F),
            bcw(o, conv_w.data(), conv_w.size() * F), bal(o, alog.data(), alog.size() * F), bdt(o, dtb.data(), dtb.size() * F),
            bs(o, s0.data(), s0.size() * F), bn(o, nw.data(), nw.size() * F), mixed(o, nullptr, n * C * F),
            bg(o, nullptr, n * Hv * F), bbeta(o, nullptr, n * Hv * F), bo(o, nullptr, n * Hv * Dv * F);
        DeltaStepArgs a;
        a.qkv = T(bqkv, n, C);
        a.z = T(bz, n, Hv * Dv);
        a.a = T(ba, n, Hv);
        a.b = T(bb, n, Hv);
        a.conv_state = bcs.f();
        a.conv_weight = bcw.f();
        a.conv_kernel = K;
        a.a_log = bal.f();
        a.dt_bias = bdt.f();
        a.state = bs.f();
        a.k_heads = Hk, a.v_heads = Hv, a.dk = Dk, a.dv = Dv;
        a.norm_weight = bn.f();
        a.mixed = T(mixed, n, C);
        a.g = T(bg, n, Hv);
        a.beta = T(bbeta, n, Hv);
        a.out = T(bo, n, Hv * Dv);
        o.delta_step(a);
        o.synchronize();
        return std::vector<std::vector<float>>{bo.read<float>(), bcs.read<float>(), bs.read<float>()};
      });
    }
  }
  {  // delta_steps: three sequences' steps of one layer (two of one token, one of two tokens), each its own state
    const int64_t Hk = 2, Hv = 4, Dk = 32, Dv = 32, K = 4, C = 2 * Hk * Dk + Hv * Dv;
    const int64_t rows[3] = {1, 2, 1};
    const int64_t n = 4;
    Rand rd(seed + 125);
    const auto qkv = rd.normal(n * C), z = rd.normal(n * Hv * Dv), a_in = rd.normal(n * Hv), b_in = rd.normal(n * Hv),
               conv_w = rd.normal(C * K, 0.5f), alog = rd.uniform(Hv, -1, 1), dtb = rd.normal(Hv), nw = rd.uniform(Dv, 0.5f, 1.5f);
    std::vector<std::vector<float>> conv_s, s0;
    for (int e = 0; e < 3; ++e) conv_s.push_back(rd.normal((K - 1) * C)), s0.push_back(rd.normal(Hv * Dk * Dv, 0.2f));
    compare("delta_steps/3_sequences", 1e-5, [&](Ops& o) {
      Buf bqkv(o, qkv.data(), qkv.size() * F), bz(o, z.data(), z.size() * F), ba(o, a_in.data(), a_in.size() * F),
          bb(o, b_in.data(), b_in.size() * F), bcw(o, conv_w.data(), conv_w.size() * F), bal(o, alog.data(), alog.size() * F),
          bdt(o, dtb.data(), dtb.size() * F), bn(o, nw.data(), nw.size() * F), mixed(o, nullptr, n * C * F),
          bg(o, nullptr, n * Hv * F), bbeta(o, nullptr, n * Hv * F), bo(o, nullptr, n * Hv * Dv * F);
      std::vector<std::unique_ptr<Buf>> conv, state;
      std::vector<DeltaStepArgs> steps;
      int64_t row = 0;
      for (int e = 0; e < 3; ++e) {
        conv.push_back(std::make_unique<Buf>(o, conv_s[size_t(e)].data(), conv_s[size_t(e)].size() * F));
        state.push_back(std::make_unique<Buf>(o, s0[size_t(e)].data(), s0[size_t(e)].size() * F));
        const int64_t m = rows[e];
        DeltaStepArgs a;
        a.qkv = T(bqkv, n, C).rows_slice(row, m);
        a.z = T(bz, n, Hv * Dv).rows_slice(row, m);
        a.a = T(ba, n, Hv).rows_slice(row, m);
        a.b = T(bb, n, Hv).rows_slice(row, m);
        a.conv_state = conv.back()->f();
        a.conv_weight = bcw.f();
        a.conv_kernel = K;
        a.a_log = bal.f();
        a.dt_bias = bdt.f();
        a.state = state.back()->f();
        a.k_heads = Hk, a.v_heads = Hv, a.dk = Dk, a.dv = Dv;
        a.norm_weight = bn.f();
        a.mixed = T(mixed, n, C).rows_slice(row, m);
        a.g = T(bg, n, Hv).rows_slice(row, m);
        a.beta = T(bbeta, n, Hv).rows_slice(row, m);
        a.out = T(bo, n, Hv * Dv).rows_slice(row, m);
        steps.push_back(a);
        row += m;
      }
      o.delta_steps(steps);
      o.synchronize();
      std::vector<std::vector<float>> result{bo.read<float>()};
      for (int e = 0; e < 3; ++e) result.push_back(conv[size_t(e)]->read<float>()), result.push_back(state[size_t(e)]->read<float>());
      return result;
    });
  }
  {  // top_logits: the best k of a row with ties, a NaN and a limit, as (id, logit) pairs
    std::vector<float> row = r.normal(5000);
    for (size_t i = 0; i < row.size(); i += 5) row[i] = std::round(row[i]);
    row[11] = NAN;
    row[4999] = 100.0f;  // past the limit
    for (const int32_t k : {1, 20, 64}) {
      compare("top_logits/k" + std::to_string(k), 0, [&](Ops& o) {
        Buf b(o, row.data(), row.size() * F);
        std::vector<TokenLogit> top;
        o.top_logits({b.f(), 5000, 4999, k, &top});
        std::vector<float> flat;
        for (const TokenLogit& t : top) flat.push_back(float(t.id)), flat.push_back(t.logit);
        return std::vector<std::vector<float>>{flat};
      });
    }
  }
  {  // attention_prep: split, per-head norms, RoPE, cache append (host and device-held positions)
    const int64_t H = 4, KV = 2, D = 32, R = 16, cap = 16, first = 5;
    for (const bool gated : {false, true})
      for (const int64_t n : {int64_t{1}, int64_t{3}}) {
        Rand ra(seed + 130 + static_cast<uint32_t>(n) + (gated ? 7 : 0));
        const int64_t qp_cols = H * D * (gated ? 2 : 1);
        const auto qp = ra.normal(n * qp_cols), kk = ra.normal(n * KV * D), vv = ra.normal(n * KV * D),
                   qn = ra.uniform(D, 0.5f, 1.5f), kn = ra.uniform(D, 0.5f, 1.5f);
        for (const bool device_position : {false, true}) {
          const std::string name = std::string("attention_prep/") + (gated ? "gated" : "plain") + "/n" + std::to_string(n) +
                                   (device_position ? "/device_position" : "");
          compare(name, 1e-5, [&](Ops& o) {
            Buf bqp(o, qp.data(), qp.size() * F), bk(o, kk.data(), kk.size() * F), bv(o, vv.data(), vv.size() * F),
                bqn(o, qn.data(), qn.size() * F), bkn(o, kn.data(), kn.size() * F), kc(o, nullptr, cap * KV * D * F),
                vc(o, nullptr, cap * KV * D * F), bq(o, nullptr, n * H * D * F), bg(o, nullptr, n * H * D * F),
                bp(o, &first, sizeof first);
            AttentionPrepArgs a;
            a.q_proj = T(bqp, n, qp_cols);
            a.gated = gated;
            a.k = T(bk, n, KV * D);
            a.v = T(bv, n, KV * D);
            a.q_norm = bqn.f();
            a.k_norm = bkn.f();
            a.heads = H, a.kv_heads = KV, a.head_dim = D, a.rotary_dim = R;
            a.theta = 1e6f;
            a.first_position = device_position ? 0 : first;
            a.position_ptr = device_position ? static_cast<const int64_t*>(bp.ptr) : nullptr;
            a.k_cache = T(kc, cap, KV * D);
            a.v_cache = T(vc, cap, KV * D);
            a.q = T(bq, n, H * D);
            if (gated) a.gate = T(bg, n, H * D);
            o.attention_prep(a);
            o.synchronize();
            return std::vector<std::vector<float>>{bq.read<float>(), bg.read<float>(), bk.read<float>(), kc.read<float>(),
                                                   vc.read<float>()};
          });
        }
      }
  }
  return out;
}

}  // namespace hearth::engine::testing
