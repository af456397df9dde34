// Every non-matmul CUDA op against the CPU reference on fresh random inputs (outputs poisoned with NaN
// before each run), and a recorded (graph) sequence replayed at several positions.
#include <gtest/gtest.h>

#include <limits>
#include <numeric>

#include "cuda_test_util.h"

namespace hearth::engine::cuda {
namespace {

using namespace testing;

class CudaOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!device_available()) GTEST_SKIP() << "no CUDA device";
    // Exact mode: the MoE and attention prefill cases here hold float32-level budgets (the fast mode's
    // bf16 products have their own tests in cuda_matmul_test / cuda_attention_test).
    CudaOptions options;
    options.precision = Precision::exact;
    gpu_ = std::make_unique<CudaOps>(options);
  }
  std::unique_ptr<CudaOps> gpu_;
  cpu::CpuOps cpu_{2};
};

TEST_F(CudaOpsTest, RmsNormPerRowAndPerHeadMatchesCpu) {
  // dim 2048: a block per row; smaller: a warp per row or head.
  for (const auto& [cols, dim] : {std::pair<int64_t, int64_t>{256, 256}, {256, 32}, {2048, 2048}, {4096, 2048}}) {
    const int64_t stride = cols + 4;
    std::vector<float> x = random_floats(5 * stride, -3, 3), w = random_floats(dim), want(5 * cols);
    cpu_.rms_norm({host_tensor(x, 5, cols, stride), host_tensor(want, 5, cols), w.data(), dim, 1e-6f});
    DeviceFloats dx(*gpu_, x), dw(*gpu_, w), out(*gpu_, 5 * cols);
    out.poison();
    gpu_->rms_norm({dx.tensor(5, cols, stride), out.tensor(5, cols), dw.get(), dim, 1e-6f});
    EXPECT_LT(max_rel_error(out.download(), want), kFp32) << "dim " << dim;
    // In place.
    gpu_->rms_norm({dx.tensor(5, cols, stride), dx.tensor(5, cols, stride), dw.get(), dim, 1e-6f});
    EXPECT_LT(max_rel_error(packed(dx.download(), 5, cols, stride), want), kFp32) << "in place, dim " << dim;
  }
}

TEST_F(CudaOpsTest, GatedRmsNormMatchesCpu) {
  std::vector<float> x = random_floats(7 * 128, -2, 2), z = random_floats(7 * 128, -4, 4), w = random_floats(32);
  std::vector<float> want = x;
  cpu_.gated_rms_norm({host_tensor(want, 7, 128), host_tensor(z, 7, 128), w.data(), 32, 1e-6f});
  DeviceFloats dx(*gpu_, x), dz(*gpu_, z), dw(*gpu_, w);
  gpu_->gated_rms_norm({dx.tensor(7, 128), dz.tensor(7, 128), dw.get(), 32, 1e-6f});
  EXPECT_LT(max_rel_error(dx.download(), want), kFp32);
}

TEST_F(CudaOpsTest, RopeAtAHostAndADevicePositionMatchesCpu) {
  const int64_t heads = 4, D = 64, rot = 16;
  for (int64_t first : {0, 1000, 40000}) {
    std::vector<float> x = random_floats(6 * heads * D), want = x;
    cpu_.rope({host_tensor(want, 6, heads * D), heads, D, rot, first, 1e7f});
    DeviceFloats dx(*gpu_, x);
    gpu_->rope({dx.tensor(6, heads * D), heads, D, rot, first, 1e7f});
    EXPECT_LT(max_rel_error(dx.download(), want), kFp32) << "position " << first;
    // The same rotation with the position read from device memory.
    auto* pos = static_cast<int64_t*>(gpu_->alloc(8));
    gpu_->upload(pos, &first, 8);
    dx.upload(x);
    gpu_->rope({dx.tensor(6, heads * D), heads, D, rot, 123456, 1e7f, pos});
    EXPECT_LT(max_rel_error(dx.download(), want), kFp32) << "device position " << first;
    gpu_->release(pos);
  }
}

TEST_F(CudaOpsTest, ElementwiseOpsMatchCpu) {
  const int64_t n = 6, heads = 3, D = 32, C = heads * D;
  std::vector<float> qg = random_floats(n * 2 * C), q(n * C), g(n * C);
  cpu_.split_query_gate({host_tensor(qg, n, 2 * C), heads, D, host_tensor(q, n, C), host_tensor(g, n, C)});
  DeviceFloats dqg(*gpu_, qg), dq(*gpu_, n * C), dg(*gpu_, n * C);
  dq.poison();
  dg.poison();
  gpu_->split_query_gate({dqg.tensor(n, 2 * C), heads, D, dq.tensor(n, C), dg.tensor(n, C)});
  EXPECT_EQ(max_rel_error(dq.download(), q), 0.0);
  EXPECT_EQ(max_rel_error(dg.download(), g), 0.0);

  std::vector<float> sm = q;
  cpu_.sigmoid_mul({host_tensor(sm, n, C), host_tensor(g, n, C)});
  gpu_->sigmoid_mul({dq.tensor(n, C), dg.tensor(n, C)});
  EXPECT_LT(max_rel_error(dq.download(), sm), kFp32);

  std::vector<float> gate = random_floats(n * C, -5, 5), up = random_floats(n * C), sw(n * C);
  cpu_.swiglu({host_tensor(gate, n, C), host_tensor(up, n, C), host_tensor(sw, n, C)});
  DeviceFloats dgate(*gpu_, gate), dup(*gpu_, up), dsw(*gpu_, n * C);
  dsw.poison();
  gpu_->swiglu({dgate.tensor(n, C), dup.tensor(n, C), dsw.tensor(n, C)});
  EXPECT_LT(max_rel_error(dsw.download(), sw), kFp32);

  std::vector<float> x = random_floats(n * C), y = random_floats(n * C), rg = random_floats(n, -3, 3);
  std::vector<float> plain = x, gated = x;
  cpu_.add({host_tensor(plain, n, C), host_tensor(y, n, C), {}});
  cpu_.add({host_tensor(gated, n, C), host_tensor(y, n, C), host_tensor(rg, n, 1)});
  DeviceFloats dx(*gpu_, x), dy(*gpu_, y), drg(*gpu_, rg);
  gpu_->add({dx.tensor(n, C), dy.tensor(n, C), {}});
  EXPECT_LT(max_rel_error(dx.download(), plain), kFp32);
  dx.upload(x);
  gpu_->add({dx.tensor(n, C), dy.tensor(n, C), drg.tensor(n, 1)});
  EXPECT_LT(max_rel_error(dx.download(), gated), kFp32);

  DeviceFloats dcopy(*gpu_, n * (C + 4));
  dcopy.poison();
  gpu_->copy_tensor({dy.tensor(n, C), dcopy.tensor(n, C, C + 4)});
  EXPECT_EQ(max_rel_error(packed(dcopy.download(), n, C, C + 4), y), 0.0);
}

TEST_F(CudaOpsTest, WriteRowsAtADevicePositionAppendsToTheCache) {
  std::vector<float> cache = random_floats(40 * 16), src = random_floats(3 * 16);
  std::vector<float> want = cache;
  std::copy(src.begin(), src.end(), want.begin() + 21 * 16);
  DeviceFloats dcache(*gpu_, cache), dsrc(*gpu_, src);
  auto* pos = static_cast<int64_t*>(gpu_->alloc(8));
  const int64_t p = 21;
  gpu_->upload(pos, &p, 8);
  gpu_->write_rows({dsrc.tensor(3, 16), dcache.tensor(40, 16), 0, pos});
  EXPECT_EQ(max_rel_error(dcache.download(), want), 0.0);
  gpu_->release(pos);
}

TEST_F(CudaOpsTest, Conv1dContinuesItsStateAcrossCalls) {
  const int64_t C = 96, K = 4;
  for (bool silu : {true, false}) {
    std::vector<float> w = random_floats(C * K), state = random_floats((K - 1) * C);
    DeviceFloats dw(*gpu_, w), dstate(*gpu_, state);
    for (int64_t n : {1, 3, 17, 2}) {  // sequential kernel (n <= 4) and the two-pass one
      std::vector<float> x = random_floats(n * C), want(n * C);
      cpu_.conv1d({host_tensor(x, n, C), state.data(), w.data(), K, silu, host_tensor(want, n, C)});
      DeviceFloats dx(*gpu_, x), out(*gpu_, n * C);
      out.poison();
      gpu_->conv1d({dx.tensor(n, C), dstate.get(), dw.get(), K, silu, out.tensor(n, C)});
      EXPECT_LT(max_rel_error(out.download(), want), kFp32) << "n " << n << " silu " << silu;
      EXPECT_EQ(max_rel_error(dstate.download(), state), 0.0) << "state after n " << n;
    }
  }
}

TEST_F(CudaOpsTest, DeltaGatesMatchCpu) {
  const int64_t n = 7, H = 12;
  std::vector<float> a = random_floats(n * H, -30, 30), b = random_floats(n * H, -5, 5);
  std::vector<float> alog = random_floats(H, 0, 2.7f), dt = random_floats(H, -1, 1), g(n * H), beta(n * H);
  cpu_.delta_gates({host_tensor(a, n, H), host_tensor(b, n, H), alog.data(), dt.data(), host_tensor(g, n, H),
                    host_tensor(beta, n, H)});
  DeviceFloats da(*gpu_, a), db(*gpu_, b), dal(*gpu_, alog), ddt(*gpu_, dt), dg(*gpu_, n * H), dbeta(*gpu_, n * H);
  dg.poison();
  dbeta.poison();
  gpu_->delta_gates({da.tensor(n, H), db.tensor(n, H), dal.get(), ddt.get(), dg.tensor(n, H), dbeta.tensor(n, H)});
  EXPECT_LT(max_rel_error(dg.download(), g), kFp32);
  EXPECT_LT(max_rel_error(dbeta.download(), beta), kFp32);
}

struct DeltaShape {
  int64_t k_heads, v_heads, dk, dv;
};

TEST_F(CudaOpsTest, DeltaRuleMatchesCpuRecurrentAndChunkedForms) {
  for (const DeltaShape s : {DeltaShape{2, 4, 16, 16}, DeltaShape{2, 4, 32, 32}, DeltaShape{1, 2, 128, 128},
                             DeltaShape{2, 6, 64, 48}}) {
    for (const DeltaRuleMode mode : {DeltaRuleMode::recurrent, DeltaRuleMode::chunked}) {
      for (int64_t n : {1, 5, 70}) {
        const int64_t kd = s.k_heads * s.dk, vd = s.v_heads * s.dv;
        std::vector<float> q = random_floats(n * kd), k = random_floats(n * kd), v = random_floats(n * vd);
        std::vector<float> g = random_floats(n * s.v_heads, -1.0f, 0.0f), beta = random_floats(n * s.v_heads, 0, 1);
        std::vector<float> state = random_floats(s.v_heads * s.dk * s.dv, -0.5f, 0.5f), want_state = state;
        std::vector<float> want(n * vd);
        cpu_.delta_rule({host_tensor(q, n, kd), host_tensor(k, n, kd), host_tensor(v, n, vd), host_tensor(g, n, s.v_heads),
                         host_tensor(beta, n, s.v_heads), want_state.data(), s.k_heads, s.v_heads, s.dk, s.dv, mode, 16,
                         host_tensor(want, n, vd)});
        DeviceFloats dq(*gpu_, q), dk(*gpu_, k), dv(*gpu_, v), dg(*gpu_, g), db(*gpu_, beta), ds(*gpu_, state);
        DeviceFloats out(*gpu_, n * vd);
        out.poison();
        gpu_->delta_rule({dq.tensor(n, kd), dk.tensor(n, kd), dv.tensor(n, vd), dg.tensor(n, s.v_heads),
                          db.tensor(n, s.v_heads), ds.get(), s.k_heads, s.v_heads, s.dk, s.dv, mode, 16,
                          out.tensor(n, vd)});
        const std::string what = "dk " + std::to_string(s.dk) + " dv " + std::to_string(s.dv) + " n " +
                                 std::to_string(n) + (mode == DeltaRuleMode::chunked ? " chunked" : " recurrent");
        EXPECT_LT(max_rel_error(out.download(), want), 1e-4) << what;
        EXPECT_LT(max_rel_error(ds.download(), want_state), 1e-4) << what << " (state)";
      }
    }
  }
}

struct AttnShape {
  int64_t heads, kv_heads, dim;
};

TEST_F(CudaOpsTest, AttentionDecodeAndPrefillMatchCpu) {
  const int64_t cap = 1024;
  for (const AttnShape s : {AttnShape{4, 2, 16}, AttnShape{4, 2, 32}, AttnShape{8, 1, 64}, AttnShape{16, 2, 256}}) {
    const int64_t W = s.kv_heads * s.dim, Q = s.heads * s.dim;
    std::vector<float> kc = random_floats(cap * W, -2, 2), vc = random_floats(cap * W);
    DeviceFloats dk(*gpu_, kc), dv(*gpu_, vc);
    const float scale = 1.0f / std::sqrt(static_cast<float>(s.dim));
    struct Run {
      int64_t n, first;
    };
    for (const Run r : {Run{1, 0}, Run{1, 31}, Run{1, 300}, Run{1, 1023}, Run{70, 0}, Run{70, 37}, Run{3, 500},
                        Run{130, 200}}) {
      std::vector<float> q = random_floats(r.n * Q, -2, 2), want(r.n * Q);
      cpu_.attention({host_tensor(q, r.n, Q), host_tensor(kc, cap, W), host_tensor(vc, cap, W), r.first, s.heads,
                      s.kv_heads, s.dim, scale, host_tensor(want, r.n, Q)});
      DeviceFloats dq(*gpu_, q), out(*gpu_, r.n * Q);
      out.poison();
      gpu_->attention({dq.tensor(r.n, Q), dk.tensor(cap, W), dv.tensor(cap, W), r.first, s.heads, s.kv_heads, s.dim,
                       scale, out.tensor(r.n, Q)});
      const double tol = r.n == 1 ? kFp32 : kSplitBf16;
      EXPECT_LT(max_rel_error(out.download(), want), tol)
          << "heads " << s.heads << "/" << s.kv_heads << " dim " << s.dim << " n " << r.n << " at " << r.first;
    }
  }
}

TEST_F(CudaOpsTest, RouterPicksTheCpuExpertsAndWeights) {
  for (const auto& [E, k] : {std::pair<int64_t, int64_t>{8, 3}, {256, 8}, {60, 4}}) {
    for (bool normalize : {true, false}) {
      const int64_t n = 5;
      std::vector<float> logits = random_floats(n * E, -4, 4), w(n * k);
      std::vector<int32_t> idx(n * k);
      cpu_.route({host_tensor(logits, n, E), k, normalize, idx.data(), w.data()});
      DeviceFloats dl(*gpu_, logits), dw(*gpu_, n * k);
      auto* di = static_cast<int32_t*>(gpu_->alloc(n * k * 4));
      gpu_->route({dl.tensor(n, E), k, normalize, di, dw.get()});
      std::vector<int32_t> got(n * k);
      gpu_->download(got.data(), di, got.size() * 4);
      EXPECT_EQ(got, idx) << E << " experts, top " << k;
      EXPECT_LT(max_rel_error(dw.download(), w), kFp32);
      gpu_->release(di);
    }
  }
}

TEST_F(CudaOpsTest, MoeMatchesCpuForDecodeAndGroupedPrefill) {
  const int64_t E = 8, k = 3, H = 128, I = 64;
  for (const char* fmt : {"affine4_g64", "mxfp4", "nvfp4", "bf16", "affine3_g64"}) {
    const FormatSpec f = format_named(fmt);
    std::vector<HostWeight> hg, hu, hd;
    WeightStack sg, su, sd, dg, du, dd;
    for (int64_t e = 0; e < E; ++e) {
      hg.push_back(random_weight(f, I, H));
      hu.push_back(random_weight(f, I, H));
      hd.push_back(random_weight(f, H, I));
    }
    for (int64_t e = 0; e < E; ++e) {
      sg.experts.push_back(hg[e].m), su.experts.push_back(hu[e].m), sd.experts.push_back(hd[e].m);
      dg.experts.push_back(gpu_->place_weight(hg[e].m));
      du.experts.push_back(gpu_->place_weight(hu[e].m));
      dd.experts.push_back(gpu_->place_weight(hd[e].m));
    }
    for (int64_t n : {1, 3, 20, 100}) {
      std::vector<float> x = random_floats(n * H), logits = random_floats(n * E, -3, 3), rw(n * k);
      std::vector<int32_t> idx(n * k);
      cpu_.route({host_tensor(logits, n, E), k, true, idx.data(), rw.data()});
      std::vector<float> out0 = random_floats(n * H), want = out0;
      cpu_.moe({host_tensor(x, n, H), &sg, &su, &sd, idx.data(), rw.data(), k, host_tensor(want, n, H)});
      DeviceFloats dx(*gpu_, x), drw(*gpu_, rw), dout(*gpu_, out0);
      auto* di = static_cast<int32_t*>(gpu_->alloc(n * k * 4));
      gpu_->upload(di, idx.data(), idx.size() * 4);
      gpu_->moe({dx.tensor(n, H), &dg, &du, &dd, di, drw.get(), k, dout.tensor(n, H)});
      const double tol = n <= kMoeDecodeMaxTokens ? kFp32 : kSplitBf16;
      EXPECT_LT(max_rel_error(dout.download(), want), tol) << fmt << " n " << n;
      gpu_->release(di);
    }
  }
}

// The device's top-k selection returns exactly the host selection (engine/top_logits.h): the same ids
// in the same order, the same logits, with ties, NaNs, -0/+0, -inf, a vocabulary limit and k = 1..64.
TEST_F(CudaOpsTest, TopLogitsMatchTheHostSelection) {
  for (int64_t vocab : {int64_t{50}, int64_t{4096}, int64_t{248320}}) {
    std::vector<float> row = random_floats(size_t(vocab), -8, 8);
    for (size_t i = 0; i < row.size(); i += 7) row[i] = float(int(row[i]));  // many exact ties
    row[3] = std::nanf("");
    row[5] = -0.0f;
    row[6] = 0.0f;
    row[9] = -std::numeric_limits<float>::infinity();
    row[size_t(vocab) - 1] = 1000.0f;  // the maximum, cut off by the limit below
    DeviceFloats d(*gpu_, row);
    for (int64_t limit : {vocab, vocab - 1}) {
      for (int32_t k : {1, 2, 20, 64}) {
        std::vector<TokenLogit> got;
        gpu_->top_logits({d.get(), vocab, limit, k, &got});
        const std::vector<TokenLogit> want = engine::top_logits(row, size_t(limit), size_t(k));
        ASSERT_EQ(got.size(), want.size()) << "vocab " << vocab << " limit " << limit << " k " << k;
        for (size_t i = 0; i < want.size(); ++i) {
          EXPECT_EQ(got[i].id, want[i].id) << "vocab " << vocab << " limit " << limit << " k " << k << " rank " << i;
          EXPECT_EQ(got[i].logit, want[i].logit) << "rank " << i;
        }
      }
    }
  }
}

TEST_F(CudaOpsTest, RecordedOpsReplayAtThePositionStoredOnTheDevice) {
  // One attention step: append k, rotate q, attend; recorded once, replayed at positions 5 and 9.
  const int64_t H = 4, KV = 2, D = 32, cap = 16, W = KV * D;
  std::vector<float> kc = random_floats(cap * W), vc = random_floats(cap * W);
  DeviceFloats dk(*gpu_, kc), dv(*gpu_, vc), dq(*gpu_, H * D), dknew(*gpu_, W), out(*gpu_, H * D);
  auto* pos = static_cast<int64_t*>(gpu_->alloc(8));
  const auto record = [&] {
    gpu_->write_rows({dknew.tensor(1, W), dk.tensor(cap, W), 0, pos});
    gpu_->rope({dq.tensor(1, H * D), H, D, 8, 0, 1e4f, pos});
    gpu_->attention({dq.tensor(1, H * D), dk.tensor(cap, W), dv.tensor(cap, W), 0, H, KV, D, 0.2f, out.tensor(1, H * D), pos});
  };
  ASSERT_TRUE(gpu_->can_record());
  int64_t p = 1;
  gpu_->upload(pos, &p, 8);
  dknew.upload(std::vector<float>(kc.begin() + W, kc.begin() + 2 * W));  // row 1 keeps its value
  record();  // eager once: workspaces exist before recording
  gpu_->begin_recording();
  record();
  auto graph = gpu_->end_recording();
  for (int64_t at : {5, 9}) {
    std::vector<float> q = random_floats(H * D), knew = random_floats(W), want(H * D);
    std::copy(knew.begin(), knew.end(), kc.begin() + at * W);
    std::vector<float> qr = q;
    cpu_.rope({host_tensor(qr, 1, H * D), H, D, 8, at, 1e4f});
    cpu_.attention({host_tensor(qr, 1, H * D), host_tensor(kc, cap, W), host_tensor(vc, cap, W), at, H, KV, D, 0.2f,
                    host_tensor(want, 1, H * D)});
    dq.upload(q);
    dknew.upload(knew);
    gpu_->upload(pos, &at, 8);
    out.poison();
    graph->replay();
    EXPECT_LT(max_rel_error(out.download(), want), kFp32) << "position " << at;
  }
  gpu_->release(pos);
}

TEST_F(CudaOpsTest, OpsWithHostInputsRefuseToBeRecorded) {
  std::vector<float> host(4);
  DeviceFloats d(*gpu_, 4);
  gpu_->begin_recording();
  gpu_->zero(d.get(), 16);
  EXPECT_THROW(gpu_->upload(d.get(), host.data(), 16), Error);
  EXPECT_THROW(gpu_->download(host.data(), d.get(), 16), Error);
  gpu_->end_recording();
}

}  // namespace
}  // namespace hearth::engine::cuda
