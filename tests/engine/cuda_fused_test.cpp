// The CUDA fused ops (ops.h: delta_step, matmul_jobs, moe_block, attention_prep) against the CPU reference's
// compositions on fresh random inputs: model shapes (35B-A3B), the tiny models' shapes and odd sizes,
// outputs poisoned with NaN before each run, every state the op updates compared as well.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "cuda_test_util.h"
#include "engine/cuda/attention/attention_prep_layout.h"

namespace hearth::engine::cuda {
namespace {

using namespace testing;

// ---- delta_step ----------------------------------------------------------------------------------------

struct DeltaShape {
  const char* name;
  int64_t k_heads, v_heads, dk, dv, kernel;
};

// The fused ops' compositions for more than 8 tokens run the prefill products; exact mode keeps those
// at float32 level so one budget (1e-4) holds for every case here (fast mode: cuda_matmul_test).
CudaOptions exact_products() {
  CudaOptions o;
  o.precision = Precision::exact;
  return o;
}

class CudaDeltaStep : public ::testing::TestWithParam<DeltaShape> {};

TEST_P(CudaDeltaStep, ThreeDecodeStepsMatchTheCpuCompositionForOutputConvStateAndState) {
  HEARTH_REQUIRE_GPU();
  const DeltaShape s = GetParam();
  const int64_t kd = s.k_heads * s.dk, vd = s.v_heads * s.dv, C = 2 * kd + vd, K = s.kernel;
  cpu::CpuOps cpu(2);
  CudaOps gpu(exact_products());
  auto conv_w = random_floats(static_cast<size_t>(C * K), -0.5f, 0.5f);
  auto a_log = random_floats(static_cast<size_t>(s.v_heads), -1.0f, 1.0f);
  auto dt_bias = random_floats(static_cast<size_t>(s.v_heads), -1.0f, 1.0f);
  auto norm = random_floats(static_cast<size_t>(s.dv), 0.5f, 1.5f);
  std::vector<float> conv_cpu = random_floats(static_cast<size_t>((K - 1) * C)), state_cpu = random_floats(static_cast<size_t>(s.v_heads * s.dk * s.dv), -0.3f, 0.3f);
  DeviceFloats d_conv_w(gpu, conv_w), d_a_log(gpu, a_log), d_dt_bias(gpu, dt_bias), d_norm(gpu, norm);
  DeviceFloats d_conv(gpu, conv_cpu), d_state(gpu, state_cpu);
  DeviceFloats d_qkv(gpu, static_cast<size_t>(C)), d_z(gpu, static_cast<size_t>(vd)), d_a(gpu, static_cast<size_t>(s.v_heads)),
      d_b(gpu, static_cast<size_t>(s.v_heads)), d_mixed(gpu, static_cast<size_t>(C)), d_g(gpu, static_cast<size_t>(s.v_heads)),
      d_beta(gpu, static_cast<size_t>(s.v_heads)), d_out(gpu, static_cast<size_t>(vd));

  for (int step = 0; step < 3; ++step) {
    auto qkv = random_floats(static_cast<size_t>(C), -2.0f, 2.0f), z = random_floats(static_cast<size_t>(vd), -2.0f, 2.0f);
    auto a = random_floats(static_cast<size_t>(s.v_heads), -2.0f, 2.0f), b = random_floats(static_cast<size_t>(s.v_heads), -2.0f, 2.0f);
    std::vector<float> mixed(static_cast<size_t>(C)), g(static_cast<size_t>(s.v_heads)), beta(g.size()), out(static_cast<size_t>(vd));
    auto args = [&](const Tensor& tq, const Tensor& tz, const Tensor& ta, const Tensor& tb, float* conv, const float* cw,
                    const float* al, const float* dt, float* st, const float* nw, const Tensor& tm, const Tensor& tg,
                    const Tensor& tbeta, const Tensor& to) {
      DeltaStepArgs d;
      d.qkv = tq, d.z = tz, d.a = ta, d.b = tb, d.conv_state = conv, d.conv_weight = cw, d.conv_kernel = K;
      d.a_log = al, d.dt_bias = dt, d.state = st, d.k_heads = s.k_heads, d.v_heads = s.v_heads, d.dk = s.dk, d.dv = s.dv;
      d.norm_weight = nw, d.eps = 1e-6f, d.mode = DeltaRuleMode::recurrent;
      d.mixed = tm, d.g = tg, d.beta = tbeta, d.out = to;
      return d;
    };
    cpu.delta_step(args(host_tensor(qkv, 1, C), host_tensor(z, 1, vd), host_tensor(a, 1, s.v_heads), host_tensor(b, 1, s.v_heads),
                        conv_cpu.data(), conv_w.data(), a_log.data(), dt_bias.data(), state_cpu.data(), norm.data(),
                        host_tensor(mixed, 1, C), host_tensor(g, 1, s.v_heads), host_tensor(beta, 1, s.v_heads),
                        host_tensor(out, 1, vd)));
    d_qkv.upload(qkv), d_z.upload(z), d_a.upload(a), d_b.upload(b);
    d_out.poison();
    gpu.delta_step(args(d_qkv.tensor(1, C), d_z.tensor(1, vd), d_a.tensor(1, s.v_heads), d_b.tensor(1, s.v_heads), d_conv.get(),
                        d_conv_w.get(), d_a_log.get(), d_dt_bias.get(), d_state.get(), d_norm.get(), d_mixed.tensor(1, C),
                        d_g.tensor(1, s.v_heads), d_beta.tensor(1, s.v_heads), d_out.tensor(1, vd)));
    EXPECT_LT(max_rel_error(d_out.download(), out), 1e-4) << "output, step " << step;
    EXPECT_LT(max_rel_error(d_conv.download(), conv_cpu), kFp32) << "conv state, step " << step;
    EXPECT_LT(max_rel_error(d_state.download(), state_cpu), 1e-4) << "state, step " << step;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, CudaDeltaStep,
    ::testing::Values(DeltaShape{"qwen35_35b_a3b", 16, 32, 128, 128, 4},  // one kernel, clusters of 8
                      DeltaShape{"tiny", 2, 4, 32, 32, 4},                // one kernel, clusters of 2
                      DeltaShape{"odd_dv_ratio3", 2, 6, 64, 40, 4},       // partial column block, clusters of 6
                      DeltaShape{"dk16_kernel3", 3, 3, 16, 8, 3},
                      DeltaShape{"qwen35_27b_fallback", 16, 48, 128, 128, 4}),  // cluster of 12: the composition
    [](const ::testing::TestParamInfo<DeltaShape>& i) { return std::string(i.param.name); });

// ---- attention_prep -----------------------------------------------------------------------------------

struct PrepCase {
  const char* name;
  int64_t n, heads, kv_heads, head_dim, rotary_dim;
  bool gated, device_position;
};

class CudaAttentionPrep : public ::testing::TestWithParam<PrepCase> {};

TEST_P(CudaAttentionPrep, QueryGateKeyAndCacheRowsMatchTheCpuComposition) {
  HEARTH_REQUIRE_GPU();
  const PrepCase c = GetParam();
  cpu::CpuOps cpu(1);
  CudaOps gpu(exact_products());
  const int64_t n = c.n, D = c.head_dim, qd = c.heads * D, kvd = c.kv_heads * D, qw = qd * (c.gated ? 2 : 1);
  const int64_t cap = 300, p = 257 - n;  // rows near the end of the cache, positions past 256
  const auto q_proj = random_floats(static_cast<size_t>(n * qw), -3.0f, 3.0f), k0 = random_floats(static_cast<size_t>(n * kvd), -3.0f, 3.0f);
  auto v = random_floats(static_cast<size_t>(n * kvd)), qn = random_floats(static_cast<size_t>(D), 0.5f, 1.5f),
       kn = random_floats(static_cast<size_t>(D), 0.5f, 1.5f);
  const auto cache0 = random_floats(static_cast<size_t>(cap * kvd));

  std::vector<float> qp = q_proj, k = k0, kc = cache0, vc = cache0, q(static_cast<size_t>(n * qd)), gate(q.size());
  AttentionPrepArgs a;
  a.q_proj = host_tensor(qp, n, qw), a.gated = c.gated, a.k = host_tensor(k, n, kvd), a.v = host_tensor(v, n, kvd);
  a.q_norm = qn.data(), a.k_norm = kn.data(), a.eps = 1e-6f;
  a.heads = c.heads, a.kv_heads = c.kv_heads, a.head_dim = D, a.rotary_dim = c.rotary_dim, a.theta = 1e7f, a.first_position = p;
  a.k_cache = host_tensor(kc, cap, kvd), a.v_cache = host_tensor(vc, cap, kvd);
  a.q = host_tensor(q, n, qd);
  if (c.gated) a.gate = host_tensor(gate, n, qd);
  cpu.attention_prep(a);

  DeviceFloats dqp(gpu, q_proj), dk(gpu, k0), dv(gpu, v), dqn(gpu, qn), dkn(gpu, kn), dkc(gpu, cache0), dvc(gpu, cache0);
  DeviceFloats dq(gpu, static_cast<size_t>(n * qd)), dgate(gpu, static_cast<size_t>(n * qd));
  dq.poison(), dgate.poison();
  const int64_t position = p;
  auto* dpos = static_cast<int64_t*>(gpu.alloc(sizeof(int64_t)));
  gpu.upload(dpos, &position, sizeof(position));
  AttentionPrepArgs g = a;
  g.q_proj = dqp.tensor(n, qw), g.k = dk.tensor(n, kvd), g.v = dv.tensor(n, kvd), g.q_norm = dqn.get(), g.k_norm = dkn.get();
  g.k_cache = dkc.tensor(cap, kvd), g.v_cache = dvc.tensor(cap, kvd), g.q = dq.tensor(n, qd);
  g.gate = c.gated ? dgate.tensor(n, qd) : Tensor{};
  if (c.device_position) g.first_position = 0, g.position_ptr = dpos;  // the recorded-step form
  gpu.attention_prep(g);
  EXPECT_LT(max_rel_error(dq.download(), q), 1e-5);
  EXPECT_LT(max_rel_error(dk.download(), k), 1e-5);
  EXPECT_LT(max_rel_error(dkc.download(), kc), 1e-5);  // rows outside [p, p + n) unchanged
  EXPECT_EQ(dvc.download(), vc);
  if (c.gated) EXPECT_EQ(dgate.download(), gate);
  gpu.release(dpos);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CudaAttentionPrep,
    ::testing::Values(PrepCase{"qwen35_35b_decode", 1, 16, 2, 256, 64, true, true},
                      PrepCase{"qwen35_35b_n5", 5, 16, 2, 256, 64, true, false},
                      PrepCase{"qwen3_plain_full_rotary", 3, 8, 4, 128, 128, false, true},
                      PrepCase{"odd_head_dim", 7, 6, 3, 48, 16, true, false},
                      PrepCase{"prefill_40", 40, 4, 1, 64, 32, false, false}),
    [](const ::testing::TestParamInfo<PrepCase>& i) { return std::string(i.param.name); });

// ---- matmul_jobs ---------------------------------------------------------------------------------------

struct JobsCase {
  const char* format;
  int64_t n, cols;
  InputTransform transform;
};

class CudaMatmulJobs : public ::testing::TestWithParam<JobsCase> {};

TEST_P(CudaMatmulJobs, ThreeJobsOneAccumulatingMatchTheCpuComposition) {
  HEARTH_REQUIRE_GPU();
  const JobsCase c = GetParam();
  cpu::CpuOps cpu(2);
  CudaOps gpu(exact_products());
  const FormatSpec f = format_named(c.format);
  const int64_t rows[3] = {192, 33 * 32, 40};
  std::vector<HostWeight> host;
  std::vector<WeightMatrix> placed;
  for (int64_t r : rows) host.push_back(random_weight(f, r, c.cols));
  for (auto& h : host) placed.push_back(gpu.place_weight(h.m));
  auto x = random_floats(static_cast<size_t>(c.n * c.cols)), up = random_floats(x.size());
  auto norm = random_floats(static_cast<size_t>(c.cols), 0.5f, 1.5f);
  const auto acc0 = random_floats(static_cast<size_t>(c.n * rows[2]));
  std::vector<std::vector<float>> y_cpu = {std::vector<float>(static_cast<size_t>(c.n * rows[0])),
                                           std::vector<float>(static_cast<size_t>(c.n * rows[1])), acc0};
  std::vector<float> scratch(x.size());
  MatmulJobsArgs a;
  a.x = host_tensor(x, c.n, c.cols), a.transform = c.transform, a.norm_weight = norm.data(), a.eps = 1e-6f;
  a.up = host_tensor(up, c.n, c.cols), a.scratch = host_tensor(scratch, c.n, c.cols);
  for (int j = 0; j < 3; ++j) a.jobs[j] = {&host[j].m, host_tensor(y_cpu[j], c.n, rows[j]), j == 2};
  a.job_count = 3;
  cpu.matmul_jobs(a);

  DeviceFloats dx(gpu, x), dup(gpu, up), dnorm(gpu, norm), dscratch(gpu, x.size());
  DeviceFloats y0(gpu, static_cast<size_t>(c.n * rows[0])), y1(gpu, static_cast<size_t>(c.n * rows[1])), y2(gpu, acc0);
  y0.poison(), y1.poison();
  MatmulJobsArgs g = a;
  g.x = dx.tensor(c.n, c.cols), g.norm_weight = dnorm.get(), g.up = dup.tensor(c.n, c.cols), g.scratch = dscratch.tensor(c.n, c.cols);
  g.jobs[0] = {&placed[0], y0.tensor(c.n, rows[0]), false};
  g.jobs[1] = {&placed[1], y1.tensor(c.n, rows[1]), false};
  g.jobs[2] = {&placed[2], y2.tensor(c.n, rows[2]), true};
  gpu.matmul_jobs(g);
  // Decode sizes run float32 matrix-vector kernels; more tokens the GEMM path of the backend's
  // default (fast) precision.
  const double tolerance = c.n <= kMatvecMaxTokens ? 1e-4 : kBf16Max;
  EXPECT_LT(max_rel_error(y0.download(), y_cpu[0]), tolerance);
  EXPECT_LT(max_rel_error(y1.download(), y_cpu[1]), tolerance);
  EXPECT_LT(max_rel_error(y2.download(), y_cpu[2]), tolerance);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CudaMatmulJobs,
    ::testing::Values(JobsCase{"f32", 1, 256, InputTransform::rms_norm}, JobsCase{"bf16", 1, 2048, InputTransform::rms_norm},
                      JobsCase{"affine4_g64", 1, 2048, InputTransform::rms_norm},
                      JobsCase{"affine4_g64", 3, 512, InputTransform::swiglu}, JobsCase{"affine8_g64", 8, 512, InputTransform::none},
                      JobsCase{"nvfp4", 2, 1024, InputTransform::rms_norm}, JobsCase{"mxfp4", 1, 96, InputTransform::swiglu},
                      JobsCase{"affine4_g64", 11, 512, InputTransform::rms_norm}),
    [](const ::testing::TestParamInfo<JobsCase>& i) {
      const char* t = i.param.transform == InputTransform::none ? "none" : i.param.transform == InputTransform::rms_norm ? "rmsnorm" : "swiglu";
      return std::string(i.param.format) + "_n" + std::to_string(i.param.n) + "_" + std::to_string(i.param.cols) + "_" + t;
    });

// A dense MLP's down projection in prefill, Precision::fast: one job with a SwiGLU input goes straight to
// the cuBLAS GEMM, which forms silu(gate) · up while converting its input to bf16 (no SwiGLU kernel).
TEST(CudaMatmulJobsFast, SwigluDownProjectionInPrefillMatchesTheCpuCompositionWithinTheBf16Budget) {
  HEARTH_REQUIRE_GPU();
  cpu::CpuOps cpu(2);
  CudaOptions options;
  options.precision = Precision::fast;
  CudaOps gpu(options);
  for (const char* format : {"affine4_g64", "bf16", "nvfp4"}) {
    for (const auto& [n, cols, rows] : {std::tuple<int64_t, int64_t, int64_t>{40, 512, 192}, {333, 1024, 96}, {1024, 2048, 512}}) {
      for (const bool accumulate : {false, true}) {
        HostWeight w = random_weight(format_named(format), rows, cols);
        const WeightMatrix placed = gpu.place_weight(w.m);
        const int64_t x_stride = cols + 8, up_stride = cols + 4;  // strided rows, as the model's scratch
        auto gate = random_floats(static_cast<size_t>(n * x_stride), -3, 3), up = random_floats(static_cast<size_t>(n * up_stride));
        const auto y0 = random_floats(static_cast<size_t>(n * rows));
        std::vector<float> want = y0, scratch(static_cast<size_t>(n * cols));
        MatmulJobsArgs a;
        a.x = host_tensor(gate, n, cols, x_stride), a.transform = InputTransform::swiglu;
        a.up = host_tensor(up, n, cols, up_stride), a.scratch = host_tensor(scratch, n, cols);
        a.jobs[0] = {&w.m, host_tensor(want, n, rows), accumulate};
        a.job_count = 1;
        if (!accumulate) std::fill(want.begin(), want.end(), 0.0f);
        cpu.matmul_jobs(a);

        DeviceFloats dgate(gpu, gate), dup(gpu, up), dscratch(gpu, scratch.size()), dy(gpu, y0);
        if (!accumulate) dy.poison();
        dscratch.poison();  // the fast path must not need the composition's scratch
        MatmulJobsArgs g = a;
        g.x = dgate.tensor(n, cols, x_stride), g.up = dup.tensor(n, cols, up_stride), g.scratch = dscratch.tensor(n, cols);
        g.jobs[0] = {&placed, dy.tensor(n, rows), accumulate};
        gpu.matmul_jobs(g);
        const std::vector<float> got = dy.download();
        std::vector<float> got_d = got, want_d = want;
        if (accumulate)  // compare the product itself: the residual it accumulates into is exact
          for (size_t i = 0; i < got.size(); ++i) got_d[i] -= y0[i], want_d[i] -= y0[i];
        const double norm = norm_rel_error(got_d, want_d), max = max_rel_error(got_d, want_d);
        EXPECT_LT(norm, kBf16Norm) << format << " n " << n << " accumulate " << accumulate;
        EXPECT_LT(max, kBf16Max) << format << " n " << n << " accumulate " << accumulate;
        std::printf("[ fast swiglu gemm ] %-12s n %-5lld norm %.3g max %.3g\n", format, static_cast<long long>(n), norm, max);
      }
    }
  }
}

// ---- moe_block -----------------------------------------------------------------------------------------

struct MoeCase {
  int64_t n;
  bool shared;
  const char* format;
};

class CudaMoeBlock : public ::testing::TestWithParam<MoeCase> {};

TEST_P(CudaMoeBlock, ResidualAfterTheBlockMatchesTheCpuComposition) {
  HEARTH_REQUIRE_GPU();
  const MoeCase c = GetParam();
  cpu::CpuOps cpu(2);
  CudaOps gpu(exact_products());
  const FormatSpec f = format_named(c.format);
  const int64_t H = 512, I = 128, S = 192, E = 16, k = 4, n = c.n;
  std::vector<HostWeight> keep;
  auto stack = [&](int64_t rows, int64_t cols, WeightStack& host_stack, WeightStack& dev_stack) {
    for (int64_t e = 0; e < E; ++e) {
      keep.push_back(random_weight(f, rows, cols));
      host_stack.experts.push_back(keep.back().m);
    }
    for (auto& m : host_stack.experts) dev_stack.experts.push_back(gpu.place_weight(m));
  };
  keep.reserve(3 * E + 5);
  WeightStack hg, hu, hd, dg, du, dd;
  stack(I, H, hg, dg);
  stack(I, H, hu, du);
  stack(H, I, hd, dd);
  keep.push_back(random_weight(format_named("f32"), E, H));
  const WeightMatrix h_router = keep.back().m, d_router = gpu.place_weight(h_router);
  WeightMatrix hs[4], ds[4];
  const int64_t srows[4] = {S, S, H, 1}, scols[4] = {H, H, S, H};
  for (int i = 0; i < 4 && c.shared; ++i) {
    keep.push_back(random_weight(f, srows[i], scols[i]));
    hs[i] = keep.back().m, ds[i] = gpu.place_weight(hs[i]);
  }
  const auto x0 = random_floats(static_cast<size_t>(n * H), -2.0f, 2.0f);
  auto norm = random_floats(static_cast<size_t>(H), 0.5f, 1.5f);
  const size_t nh = static_cast<size_t>(n * H), ns = static_cast<size_t>(n * S);

  std::vector<float> x = x0, normed(nh), logits(static_cast<size_t>(n * E)), moe_out(nh), shared_out(nh), sg(ns), su(ns), rg(static_cast<size_t>(n));
  std::vector<float> weights(static_cast<size_t>(n * k));
  std::vector<int32_t> indices(static_cast<size_t>(n * k));
  MoeBlockArgs a;
  a.x = host_tensor(x, n, H), a.norm_weight = norm.data(), a.eps = 1e-6f, a.router = &h_router;
  a.gate = &hg, a.up = &hu, a.down = &hd, a.top_k = k, a.normalize = true;
  if (c.shared) a.shared_gate = &hs[0], a.shared_up = &hs[1], a.shared_down = &hs[2], a.shared_gate_row = &hs[3];
  a.indices = indices.data(), a.weights = weights.data();
  a.normed = host_tensor(normed, n, H), a.logits = host_tensor(logits, n, E), a.moe_out = host_tensor(moe_out, n, H);
  a.shared_out = host_tensor(shared_out, n, H), a.shared_gate_act = host_tensor(sg, n, S), a.shared_up_act = host_tensor(su, n, S);
  a.row_gate = host_tensor(rg, n, 1);
  cpu.moe_block(a);

  DeviceFloats dx(gpu, x0), dnorm(gpu, norm), dnormed(gpu, nh), dlogits(gpu, static_cast<size_t>(n * E)), dmoe(gpu, nh),
      dshared(gpu, nh), dsg(gpu, ns), dsu(gpu, ns), drg(gpu, static_cast<size_t>(n)), dweights(gpu, static_cast<size_t>(n * k));
  auto* dindices = static_cast<int32_t*>(gpu.alloc(static_cast<size_t>(n * k) * sizeof(int32_t)));
  MoeBlockArgs g = a;
  g.x = dx.tensor(n, H), g.norm_weight = dnorm.get(), g.router = &d_router, g.gate = &dg, g.up = &du, g.down = &dd;
  if (c.shared) g.shared_gate = &ds[0], g.shared_up = &ds[1], g.shared_down = &ds[2], g.shared_gate_row = &ds[3];
  g.indices = dindices, g.weights = dweights.get();
  g.normed = dnormed.tensor(n, H), g.logits = dlogits.tensor(n, E), g.moe_out = dmoe.tensor(n, H), g.shared_out = dshared.tensor(n, H);
  g.shared_gate_act = dsg.tensor(n, S), g.shared_up_act = dsu.tensor(n, S), g.row_gate = drg.tensor(n, 1);
  dweights.poison();
  gpu.moe_block(g);
  std::vector<int32_t> got_indices(indices.size());
  gpu.download(got_indices.data(), dindices, got_indices.size() * sizeof(int32_t));
  EXPECT_EQ(got_indices, indices);
  EXPECT_LT(max_rel_error(dweights.download(), weights), 1e-4);
  EXPECT_LT(max_rel_error(dx.download(), x), 1e-4);
  EXPECT_NE(x, x0);
  gpu.release(dindices);
}

INSTANTIATE_TEST_SUITE_P(Cases, CudaMoeBlock,
                         ::testing::Values(MoeCase{1, true, "affine4_g64"}, MoeCase{1, false, "bf16"},
                                           MoeCase{5, true, "nvfp4"}, MoeCase{8, true, "affine8_g64"},
                                           MoeCase{12, true, "affine4_g64"}),  // 12 tokens: the composition
                         [](const ::testing::TestParamInfo<MoeCase>& i) {
                           return std::string(i.param.format) + "_n" + std::to_string(i.param.n) + (i.param.shared ? "_shared" : "");
                         });

}  // namespace
}  // namespace hearth::engine::cuda
