// The chunked CUDA delta rule (delta_chunked.cu) against the CPU reference in both its forms, on fresh
// random inputs: chunk edges (n = 1, 5, 63, 64, 65, 200, 1024), both head layouts of the models (two and
// three value heads per key head), a non-zero state carried in, strong and weak decays, strided inputs
// as the model passes them (column slices of one buffer; 16-byte aligned rows take the tensor-core walk,
// odd strides the general one). Outputs, the workspace and nothing else are
// poisoned with NaN before each run, so a row or state column the kernels skip cannot pass.
#include <gtest/gtest.h>

#include <string>

#include "cuda_test_util.h"
#include "engine/cuda/delta/delta.h"

namespace hearth::engine::cuda {
namespace {

using namespace testing;

enum class Decay { weak, strong, mixed };

enum class Strides { aligned, odd };  // odd: q, k, v and out rows not 16-byte aligned (the general walk)

struct DeltaCase {
  int64_t k_heads, v_heads, n;
  Decay decay;
  Strides strides = Strides::aligned;
};

std::string describe(const DeltaCase& c) {
  const char* d = c.decay == Decay::weak ? "weak" : c.decay == Decay::strong ? "strong" : "mixed";
  return "k_heads " + std::to_string(c.k_heads) + " v_heads " + std::to_string(c.v_heads) + " n " +
         std::to_string(c.n) + " decay " + d + (c.strides == Strides::odd ? " odd strides" : "");
}

float random_gate(Decay d) {
  switch (d) {
    case Decay::weak: return uniform(-0.05f, 0.0f);
    case Decay::strong: return uniform(-6.0f, -1.0f);
    default: return uniform(0, 1) < 0.5f ? uniform(-0.02f, 0.0f) : uniform(-4.0f, -0.5f);
  }
}

// Inputs laid out as the model has them: q | k | v column slices of one row per token (the conv output),
// g and beta in buffers of their own with a padded stride.
struct DeltaInputs {
  static constexpr int64_t D = 128;
  DeltaInputs(const DeltaCase& c) : k_heads(c.k_heads), v_heads(c.v_heads), n(c.n), odd(c.strides == Strides::odd) {
    qkv = random_floats(static_cast<size_t>(n * qkv_cols()), -1, 1);
    gates.resize(static_cast<size_t>(n * gate_stride()));
    betas.resize(static_cast<size_t>(n * gate_stride()));
    for (auto& g : gates) g = random_gate(c.decay);
    for (auto& b : betas) b = uniform(0, 1);
    state = random_floats(static_cast<size_t>(v_heads * D * D), -0.5f, 0.5f);
  }
  int64_t kd() const { return k_heads * D; }
  int64_t vd() const { return v_heads * D; }
  int64_t qkv_cols() const { return 2 * kd() + vd() + (odd ? 1 : 0); }
  int64_t gate_stride() const { return v_heads + 3; }
  int64_t out_stride() const { return vd() + (odd ? 3 : 4); }

  // The CPU reference: returns the output rows (packed) and advances `cpu_state`.
  std::vector<float> cpu(cpu::CpuOps& ops, DeltaRuleMode mode, std::vector<float>& cpu_state) {
    std::vector<float> out(static_cast<size_t>(n * vd()));
    ops.delta_rule({Tensor{qkv.data(), n, kd(), qkv_cols()}, Tensor{qkv.data() + kd(), n, kd(), qkv_cols()},
                    Tensor{qkv.data() + 2 * kd(), n, vd(), qkv_cols()}, Tensor{gates.data(), n, v_heads, gate_stride()},
                    Tensor{betas.data(), n, v_heads, gate_stride()}, cpu_state.data(), k_heads, v_heads, D, D, mode,
                    kDeltaChunk, host_tensor(out, n, vd())});
    return out;
  }

  int64_t k_heads, v_heads, n;
  bool odd;
  std::vector<float> qkv, gates, betas, state;
};

// The same inputs on the device, and the launch description of them.
struct DeviceDelta {
  DeviceDelta(CudaOps& ops, const DeltaInputs& in)
      : qkv(ops, in.qkv), g(ops, in.gates), beta(ops, in.betas), state(ops, in.state),
        out(ops, static_cast<size_t>(in.n * in.out_stride())) {
    out.poison();
    launch.q = qkv.get(), launch.k = qkv.get() + in.kd(), launch.v = qkv.get() + 2 * in.kd();
    launch.q_stride = launch.k_stride = launch.v_stride = in.qkv_cols();
    launch.g = g.get(), launch.beta = beta.get(), launch.g_stride = launch.beta_stride = in.gate_stride();
    launch.state = state.get(), launch.out = out.get(), launch.out_stride = in.out_stride(), launch.n = in.n;
    launch.k_heads = static_cast<int>(in.k_heads), launch.v_heads = static_cast<int>(in.v_heads);
    launch.dk = launch.dv = static_cast<int>(DeltaInputs::D);
  }
  DeviceFloats qkv, g, beta, state, out;
  DeltaRuleLaunch launch;
};

class CudaDeltaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!device_available()) GTEST_SKIP() << "no CUDA device";
    gpu_ = std::make_unique<CudaOps>();
  }

  // Runs the chunked kernels (with a NaN-poisoned workspace of the test's own, or the launch's own
  // stream-ordered allocation) and compares output and state with the CPU recurrent and chunked forms:
  // with every walk that the case's alignment allows (each on fresh poisoned buffers), or just one.
  void check_chunked(const DeltaCase& c, bool own_workspace, std::vector<DeltaWalk> walks = {}) {
    if (walks.empty())
      walks = c.strides == Strides::odd
                  ? std::vector<DeltaWalk>{DeltaWalk::automatic}
                  : std::vector<DeltaWalk>{DeltaWalk::automatic, DeltaWalk::general};
    DeltaInputs in(c);
    std::vector<float> rec_state = in.state, chk_state = in.state;
    const std::vector<float> want = in.cpu(cpu_, DeltaRuleMode::recurrent, rec_state);
    const std::vector<float> want_chunked = in.cpu(cpu_, DeltaRuleMode::chunked, chk_state);
    for (const DeltaWalk walk : walks) {
      DeviceDelta dev(*gpu_, in);
      const size_t ws_floats = delta_chunked_workspace_bytes(c.n, static_cast<int>(c.v_heads)) / sizeof(float);
      DeviceFloats ws(*gpu_, own_workspace ? ws_floats : 1);
      ws.poison();
      launch_delta_rule_chunked(dev.launch, own_workspace ? ws.get() : nullptr, gpu_->stream(), walk);
      const std::vector<float> got = packed(dev.out.download(), c.n, in.vd(), in.out_stride());
      const std::vector<float> got_state = dev.state.download();
      const std::string what = describe(c) + (own_workspace ? " (given workspace)" : " (own allocation)") +
                               " walk " + walk_name(walk);
      const double e_out = max_rel_error(got, want), e_state = max_rel_error(got_state, rec_state);
      std::printf("cuda largest error chunked delta %s: out %.3g state %.3g\n", what.c_str(), e_out, e_state);
      EXPECT_LT(e_out, kFp32) << what << " vs CPU recurrent";
      EXPECT_LT(e_state, kFp32) << what << " (state) vs CPU recurrent";
      EXPECT_LT(max_rel_error(got, want_chunked), kFp32) << what << " vs CPU chunked";
      EXPECT_LT(max_rel_error(got_state, chk_state), kFp32) << what << " (state) vs CPU chunked";
    }
  }

  static const char* walk_name(DeltaWalk w) {
    switch (w) {
      case DeltaWalk::general: return "general";
      case DeltaWalk::tensor_cores: return "tensor_cores";
      default: return "automatic (tensor_cores where aligned)";
    }
  }

  std::unique_ptr<CudaOps> gpu_;
  cpu::CpuOps cpu_{4};
};

TEST_F(CudaDeltaTest, ChunkedMatchesCpuAtEveryChunkEdgeForBothHeadLayouts) {
  for (const auto& [kh, vh] : {std::pair<int64_t, int64_t>{2, 4}, {2, 6}})
    for (int64_t n : {1, 5, 63, 64, 65, 200}) check_chunked({kh, vh, n, Decay::mixed}, true);
}

TEST_F(CudaDeltaTest, ChunkedMatchesCpuWithStrongAndWeakDecays) {
  for (const Decay d : {Decay::weak, Decay::strong})
    for (int64_t n : {37, 130}) check_chunked({1, 3, n, d}, true);
}

TEST_F(CudaDeltaTest, ChunkedMatchesCpuWithRowsNotSixteenByteAlignedThroughTheGeneralWalk) {
  for (int64_t n : {5, 64, 130}) check_chunked({2, 6, n, Decay::mixed, Strides::odd}, true);
}

TEST_F(CudaDeltaTest, TensorCoreWalkRefusesRowsNotSixteenByteAlignedWithAnError) {
  DeltaInputs in({1, 2, 70, Decay::mixed, Strides::odd});
  DeviceDelta dev(*gpu_, in);
  EXPECT_THROW(launch_delta_rule_chunked(dev.launch, nullptr, gpu_->stream(), DeltaWalk::tensor_cores), Error);
}

TEST_F(CudaDeltaTest, ChunkedMatchesCpuAtModelShapesOver1024Tokens) {
  check_chunked({16, 32, 1024, Decay::mixed}, true);  // 35B-A3B
  check_chunked({16, 48, 1024, Decay::mixed}, true);  // 27B
}

TEST_F(CudaDeltaTest, ChunkedWithoutAWorkspaceAllocatesItsOwn) {
  check_chunked({2, 4, 150, Decay::mixed}, false);
  check_chunked({2, 4, 150, Decay::mixed}, false);  // a second call reuses the pool
}

TEST_F(CudaDeltaTest, ChunkedCarriesStateAcrossCallsLikeOneLongCall) {
  // Prefill in two pieces (100 then 60 tokens) must leave the state one call of 160 leaves.
  DeltaInputs in({2, 4, 160, Decay::mixed});
  std::vector<float> want_state = in.state;
  const std::vector<float> want = in.cpu(cpu_, DeltaRuleMode::recurrent, want_state);
  DeviceDelta dev(*gpu_, in);
  DeltaRuleLaunch first = dev.launch, second = dev.launch;
  first.n = 100;
  second.n = 60;
  second.q += 100 * second.q_stride, second.k += 100 * second.k_stride, second.v += 100 * second.v_stride;
  second.g += 100 * second.g_stride, second.beta += 100 * second.beta_stride, second.out += 100 * second.out_stride;
  launch_delta_rule_chunked(first, nullptr, gpu_->stream());
  launch_delta_rule_chunked(second, nullptr, gpu_->stream());
  EXPECT_LT(max_rel_error(packed(dev.out.download(), in.n, in.vd(), in.out_stride()), want), kFp32);
  EXPECT_LT(max_rel_error(dev.state.download(), want_state), kFp32);
}

TEST_F(CudaDeltaTest, DispatchUsesRecurrentBelowThresholdAndChunkedAboveWithTheSameResult) {
  for (int64_t n : {int64_t{1}, kDeltaChunkedMinTokens - 1, kDeltaChunkedMinTokens, int64_t{100}}) {
    DeltaInputs in({2, 4, n, Decay::mixed});
    std::vector<float> want_state = in.state;
    const std::vector<float> want = in.cpu(cpu_, DeltaRuleMode::recurrent, want_state);
    DeviceDelta dev(*gpu_, in);
    launch_delta_rule(dev.launch, gpu_->stream());
    EXPECT_LT(max_rel_error(packed(dev.out.download(), n, in.vd(), in.out_stride()), want), kFp32) << "n " << n;
    EXPECT_LT(max_rel_error(dev.state.download(), want_state), kFp32) << "n " << n << " (state)";
  }
}

TEST(CudaDeltaShapes, ChunkedRejectsHeadSizesOtherThan128WithAnError) {
  // Checked on the host before anything touches the device: runs without a GPU too.
  DeltaRuleLaunch l;
  l.n = 70, l.k_heads = 2, l.v_heads = 4, l.dk = 64, l.dv = 64;
  EXPECT_FALSE(delta_chunked_supports(l));
  EXPECT_THROW(launch_delta_rule_chunked(l, nullptr, nullptr), Error);
  l.dk = l.dv = 128, l.v_heads = 5;
  EXPECT_FALSE(delta_chunked_supports(l));
  l.v_heads = 6;
  EXPECT_TRUE(delta_chunked_supports(l));
}

TEST(CudaDeltaShapes, WorkspaceHoldsWIntraMatrixAndRowFactorsPerChunkAndValueHead) {
  // ceil(n / 64) chunks × heads × (64·128 + 64·64 + 2·64 + 4) floats.
  constexpr size_t slot = (64 * 128 + 64 * 64 + 2 * 64 + 4) * 4;
  EXPECT_EQ(delta_chunked_workspace_bytes(1, 1), slot);
  EXPECT_EQ(delta_chunked_workspace_bytes(64, 32), size_t{32} * slot);
  EXPECT_EQ(delta_chunked_workspace_bytes(65, 32), size_t{2} * 32 * slot);
  EXPECT_EQ(delta_chunked_workspace_bytes(1024, 48), size_t{16} * 48 * slot);
}

}  // namespace
}  // namespace hearth::engine::cuda
