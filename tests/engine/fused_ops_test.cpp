// The fused ops (ops.h) on the CPU reference: each default implementation against the explicit
// sequence of unfused ops on fresh random inputs, and the model's fused forward pass (taken without an
// observer) against its unfused one (taken with an observer) on every tiny model, bit for bit.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "engine/cpu/cpu_ops.h"
#include "engine/loader.h"
#include "engine/qwen35_model.h"
#include "reference_compare.h"

namespace hearth::engine {
namespace {

using testing::tiny_model_dir;

struct Random {
  std::mt19937 gen{20261125};
  std::vector<float> normal(int64_t n, float sd = 1.0f) {
    std::normal_distribution<float> d(0.0f, sd);
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = d(gen);
    return v;
  }
};

Tensor view(std::vector<float>& v, int64_t rows, int64_t cols) { return Tensor::contiguous(v.data(), rows, cols); }

WeightMatrix dense(std::vector<float>& w, int64_t rows, int64_t cols) {
  WeightMatrix m;
  m.rows = rows, m.cols = cols, m.data = w.data();
  return m;
}

// ---- matmul_jobs --------------------------------------------------------------------------------------

class MatmulJobsDefault : public ::testing::TestWithParam<InputTransform> {};

TEST_P(MatmulJobsDefault, EqualsTheTransformThenEachMatmulWithAccumulation) {
  const InputTransform transform = GetParam();
  Random rnd;
  cpu::CpuOps ops(2);
  const int64_t n = 3, cols = 70, rows0 = 33, rows1 = 5;
  auto x = rnd.normal(n * cols), up = rnd.normal(n * cols), norm = rnd.normal(cols);
  auto w0 = rnd.normal(rows0 * cols, 0.1f), w1 = rnd.normal(rows1 * cols, 0.1f);
  const WeightMatrix m0 = dense(w0, rows0, cols), m1 = dense(w1, rows1, cols);
  const auto y1_start = rnd.normal(n * rows1);  // job 1 accumulates into it

  std::vector<float> scratch(static_cast<size_t>(n * cols)), y0(static_cast<size_t>(n * rows0)), y1 = y1_start;
  MatmulJobsArgs a;
  a.x = view(x, n, cols);
  a.transform = transform;
  a.norm_weight = norm.data();
  a.eps = 1e-5f;
  a.up = view(up, n, cols);
  a.scratch = view(scratch, n, cols);
  a.jobs[0] = {&m0, view(y0, n, rows0), false};
  a.jobs[1] = {&m1, view(y1, n, rows1), true};
  a.job_count = 2;
  ops.matmul_jobs(a);

  std::vector<float> xhat = x, e0(y0.size()), e1 = y1_start;
  if (transform == InputTransform::rms_norm) ops.rms_norm({view(x, n, cols), view(xhat, n, cols), norm.data(), cols, 1e-5f});
  if (transform == InputTransform::swiglu) ops.swiglu({view(x, n, cols), view(up, n, cols), view(xhat, n, cols)});
  ops.matmul({&m0, view(xhat, n, cols), view(e0, n, rows0), false});
  ops.matmul({&m1, view(xhat, n, cols), view(e1, n, rows1), true});
  EXPECT_EQ(y0, e0);
  EXPECT_EQ(y1, e1);
  EXPECT_NE(y1, y1_start);
}

INSTANTIATE_TEST_SUITE_P(Transforms, MatmulJobsDefault,
                         ::testing::Values(InputTransform::none, InputTransform::rms_norm, InputTransform::swiglu));

TEST(MatmulJobsDefault, RejectsZeroJobsAndAMissingScratchWithAnError) {
  cpu::CpuOps ops(1);
  std::vector<float> x(8), w(8), y(1);
  const WeightMatrix m = dense(w, 1, 8);
  MatmulJobsArgs a;
  a.x = view(x, 1, 8);
  EXPECT_THROW(ops.matmul_jobs(a), Error);
  a.jobs[0] = {&m, view(y, 1, 1), false};
  a.job_count = 1;
  a.transform = InputTransform::rms_norm;
  a.norm_weight = x.data();
  EXPECT_THROW(ops.matmul_jobs(a), Error);  // no scratch
}

// ---- delta_step ---------------------------------------------------------------------------------------

TEST(DeltaStepDefault, EqualsConvGatesDeltaRuleAndGatedNormInSequenceForOutputAndBothStates) {
  Random rnd;
  cpu::CpuOps ops(2);
  const int64_t n = 5, hk = 2, hv = 4, dk = 16, dv = 8, K = 4, C = 2 * hk * dk + hv * dv;
  auto qkv = rnd.normal(n * C), z = rnd.normal(n * hv * dv), ta = rnd.normal(n * hv), tb = rnd.normal(n * hv);
  auto conv_w = rnd.normal(C * K, 0.5f), a_log = rnd.normal(hv, 0.3f), dt_bias = rnd.normal(hv, 0.3f);
  auto norm = rnd.normal(dv);
  const auto conv0 = rnd.normal((K - 1) * C), state0 = rnd.normal(hv * dk * dv, 0.2f);

  std::vector<float> conv1 = conv0, state1 = state0, mixed1(qkv.size()), g1(n * hv), beta1(n * hv), out1(n * hv * dv);
  DeltaStepArgs d;
  d.qkv = view(qkv, n, C), d.z = view(z, n, hv * dv), d.a = view(ta, n, hv), d.b = view(tb, n, hv);
  d.conv_state = conv1.data(), d.conv_weight = conv_w.data(), d.conv_kernel = K;
  d.a_log = a_log.data(), d.dt_bias = dt_bias.data(), d.state = state1.data();
  d.k_heads = hk, d.v_heads = hv, d.dk = dk, d.dv = dv, d.norm_weight = norm.data(), d.eps = 1e-6f;
  d.mode = DeltaRuleMode::chunked, d.chunk = 4;
  d.mixed = view(mixed1, n, C), d.g = view(g1, n, hv), d.beta = view(beta1, n, hv), d.out = view(out1, n, hv * dv);
  ops.delta_step(d);

  std::vector<float> conv2 = conv0, state2 = state0, mixed2(qkv.size()), g2(n * hv), beta2(n * hv), out2(n * hv * dv);
  const int64_t kd = hk * dk;
  const Tensor mixed = view(mixed2, n, C);
  ops.conv1d({view(qkv, n, C), conv2.data(), conv_w.data(), K, true, mixed});
  ops.delta_gates({view(ta, n, hv), view(tb, n, hv), a_log.data(), dt_bias.data(), view(g2, n, hv), view(beta2, n, hv)});
  ops.delta_rule({mixed.cols_slice(0, kd), mixed.cols_slice(kd, kd), mixed.cols_slice(2 * kd, hv * dv), view(g2, n, hv),
                  view(beta2, n, hv), state2.data(), hk, hv, dk, dv, DeltaRuleMode::chunked, 4, view(out2, n, hv * dv)});
  ops.gated_rms_norm({view(out2, n, hv * dv), view(z, n, hv * dv), norm.data(), dv, 1e-6f});
  EXPECT_EQ(out1, out2);
  EXPECT_EQ(conv1, conv2);
  EXPECT_EQ(state1, state2);
  EXPECT_NE(state1, state0);
}

// ---- attention_prep ----------------------------------------------------------------------------------

class AttentionPrepDefault : public ::testing::TestWithParam<bool> {};

TEST_P(AttentionPrepDefault, EqualsSplitNormsRopeAndCacheAppendsInSequence) {
  const bool gated = GetParam();
  Random rnd;
  cpu::CpuOps ops(1);
  const int64_t n = 3, Hq = 4, KV = 2, D = 16, rot = 8, cap = 10, p = 4;
  const int64_t qw = Hq * D * (gated ? 2 : 1);
  auto q_proj = rnd.normal(n * qw), k0 = rnd.normal(n * KV * D), v = rnd.normal(n * KV * D);
  auto q_norm = rnd.normal(D), k_norm = rnd.normal(D);
  const auto cache0 = rnd.normal(cap * KV * D);

  std::vector<float> k1 = k0, kc1 = cache0, vc1 = cache0, q1(n * Hq * D), gate1(n * Hq * D);
  AttentionPrepArgs a;
  a.q_proj = view(q_proj, n, qw), a.gated = gated, a.k = view(k1, n, KV * D), a.v = view(v, n, KV * D);
  a.q_norm = q_norm.data(), a.k_norm = k_norm.data(), a.eps = 1e-6f;
  a.heads = Hq, a.kv_heads = KV, a.head_dim = D, a.rotary_dim = rot, a.theta = 1e6f, a.first_position = p;
  a.k_cache = view(kc1, cap, KV * D), a.v_cache = view(vc1, cap, KV * D);
  a.q = view(q1, n, Hq * D);
  if (gated) a.gate = view(gate1, n, Hq * D);
  ops.attention_prep(a);

  std::vector<float> k2 = k0, kc2 = cache0, vc2 = cache0, q2(n * Hq * D), gate2(n * Hq * D);
  if (gated) ops.split_query_gate({view(q_proj, n, qw), Hq, D, view(q2, n, Hq * D), view(gate2, n, Hq * D)});
  else q2 = q_proj;
  ops.rms_norm({view(q2, n, Hq * D), view(q2, n, Hq * D), q_norm.data(), D, 1e-6f});
  ops.rms_norm({view(k2, n, KV * D), view(k2, n, KV * D), k_norm.data(), D, 1e-6f});
  ops.rope({view(q2, n, Hq * D), Hq, D, rot, p, 1e6f});
  ops.rope({view(k2, n, KV * D), KV, D, rot, p, 1e6f});
  ops.write_rows({view(k2, n, KV * D), view(kc2, cap, KV * D), p});
  ops.write_rows({view(v, n, KV * D), view(vc2, cap, KV * D), p});
  EXPECT_EQ(q1, q2);
  EXPECT_EQ(k1, k2);
  EXPECT_EQ(kc1, kc2);
  EXPECT_EQ(vc1, vc2);
  if (gated) EXPECT_EQ(gate1, gate2);
}

INSTANTIATE_TEST_SUITE_P(GatedAndPlain, AttentionPrepDefault, ::testing::Bool());

// ---- the model: fused forward pass == unfused forward pass ----------------------------------------------

class FusedForward : public ::testing::TestWithParam<std::string> {};

std::unique_ptr<Model> load_tiny(const std::string& name) {
  LoadOptions o;
  o.model_dir = tiny_model_dir(name);
  o.max_context = 256;
  o.threads = 2;
  o.device = Device::cpu;
  return load_model(o);
}

TEST_P(FusedForward, PrefillAndDecodeLogitsEqualTheUnfusedPathBitForBit) {
  auto fused = load_tiny(GetParam()), unfused = load_tiny(GetParam());
  auto* observed = dynamic_cast<Qwen35Model*>(unfused.get());
  ASSERT_NE(observed, nullptr);
  int64_t observed_tensors = 0;
  observed->set_observer([&](const std::string&, const std::vector<float>&, int64_t, int64_t) { ++observed_tensors; });

  std::vector<Token> prompt(77);  // more than one delta-rule chunk of 64
  for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = static_cast<Token>((i * 7919 + 13) % static_cast<size_t>(fused->info().vocab_size));
  fused->prefill(prompt);
  unfused->prefill(prompt);
  ASSERT_GT(observed_tensors, 0);  // the unfused path really ran
  EXPECT_EQ(std::vector<float>(fused->logits().begin(), fused->logits().end()),
            std::vector<float>(unfused->logits().begin(), unfused->logits().end()))
      << "after the prefill";
  for (int step = 0; step < 6; ++step) {
    const Token next = testing::argmax(fused->logits().data(), fused->logits().size());
    fused->prefill(std::span(&next, 1));
    unfused->prefill(std::span(&next, 1));
    ASSERT_EQ(std::vector<float>(fused->logits().begin(), fused->logits().end()),
              std::vector<float>(unfused->logits().begin(), unfused->logits().end()))
        << "decode step " << step;
  }
}

INSTANTIATE_TEST_SUITE_P(TinyModels, FusedForward, ::testing::ValuesIn(testing::tiny_model_names()),
                         testing::tiny_model_test_name);

}  // namespace
}  // namespace hearth::engine
