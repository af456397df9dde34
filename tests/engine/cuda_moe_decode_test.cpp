// launch_moe_decode_fused (the whole MoE block of a decode step) against the CPU composition the model
// runs without it: rms_norm → route → moe → shared expert matmuls → swiglu → sigmoid-gated add → add
// into the residual. Random weights in the stored formats the models use (affine 4-bit g64 experts and
// shared expert, 8-bit g64 shared gate row) and in the others (bf16, mxfp4, mixed formats that take the
// generic decoder), 1..8 tokens, with and without a shared expert, normalised routing on and off, the
// 35B-A3B shape (256 experts, top 8, hidden 2048, 512) and small odd ones. Outputs the kernels write
// (indices, weights, the workspace) are poisoned first; the router logits are tie-free so that the
// chosen experts are well defined. Every case also runs twice and must give the same bits.
//
// Error budget: kFp32 (cuda_test_util.h, 2e-5 of the largest |value|): every product is float32 on
// both sides; only the summation order (and the norm's float vs double sum of squares) differs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <optional>

#include "cuda_test_util.h"

namespace hearth::engine::cuda {
namespace {

using namespace testing;

struct SharedSpec {
  std::string format;  // shared gate/up/down
  int64_t inter = 0;
};

struct MoeCase {
  std::string expert_format;
  int64_t experts = 0, top_k = 0, hidden = 0, inter = 0;
  std::optional<SharedSpec> shared;
  // Experts cycle through this many distinct random matrices (0: all distinct), which keeps host
  // memory and upload time down for 256 experts of the real shape; with distinct well above top_k a
  // token's slots still read mostly different matrices, and the chosen indices are checked exactly.
  int64_t distinct = 0;
  std::vector<int64_t> tokens;
  bool normalize = true;
  StageTransform transform = StageTransform::rms_norm;
};

std::string describe(const MoeCase& c, int64_t n) {
  return c.expert_format + " E" + std::to_string(c.experts) + " top" + std::to_string(c.top_k) + " H" +
         std::to_string(c.hidden) + " I" + std::to_string(c.inter) +
         (c.shared ? " shared " + c.shared->format + " " + std::to_string(c.shared->inter) : " no shared") +
         (c.normalize ? " normalized" : " raw") +
         (c.transform == StageTransform::rms_norm ? " rms_norm" : " plain") + " n" + std::to_string(n);
}

// Logits far enough apart that float rounding cannot reorder them: a shuffled ramp plus small noise.
std::vector<float> tie_free_logits(int64_t n, int64_t experts, int64_t stride) {
  std::vector<float> out(static_cast<size_t>(n * stride), 0.0f);
  const float step = 8.0f / static_cast<float>(experts);
  std::vector<int> order(static_cast<size_t>(experts));
  for (int64_t t = 0; t < n; ++t) {
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng());
    for (int64_t e = 0; e < experts; ++e)
      out[static_cast<size_t>(t * stride + e)] = (order[e] + 0.5f + uniform(-0.2f, 0.2f)) * step - 4.0f;
  }
  return out;
}

class CudaMoeDecodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!device_available()) GTEST_SKIP() << "no CUDA device";
    gpu_ = std::make_unique<CudaOps>();
  }
  void TearDown() override {
    if (gpu_)
      for (void* p : tables_) gpu_->release(p);
  }

  // The per-expert pointer table the kernels read (what CudaOps builds for a WeightStack).
  ExpertTable device_table(const std::vector<WeightMatrix>& device_experts) {
    const size_t count = device_experts.size();
    std::vector<const void*> ptrs(3 * count);
    for (size_t e = 0; e < count; ++e) {
      ptrs[e] = device_experts[e].data;
      ptrs[count + e] = device_experts[e].scales;
      ptrs[2 * count + e] = device_experts[e].biases;
    }
    void* mem = gpu_->alloc(ptrs.size() * sizeof(void*));
    tables_.push_back(mem);
    gpu_->upload(mem, ptrs.data(), ptrs.size() * sizeof(void*));
    auto* table = static_cast<const uint8_t* const*>(mem);
    ExpertTable t;
    t.shape = device_experts[0];
    t.count = static_cast<int64_t>(count);
    t.data = table;
    t.scales = device_experts[0].scales ? table + count : nullptr;
    t.biases = device_experts[0].biases ? table + 2 * count : nullptr;
    t.codec = pick_codec(t.shape);
    for (const auto& m : device_experts)
      if (pick_codec(m) != t.codec) t.codec = Codec::generic;
    return t;
  }

  void run_case(const MoeCase& c);

  std::unique_ptr<CudaOps> gpu_;
  cpu::CpuOps cpu_{2};
  std::vector<void*> tables_;
};

// One stack of experts on host and device (experts cycling through `distinct` random matrices).
struct Stack {
  std::vector<HostWeight> storage;
  WeightStack host;
  std::vector<WeightMatrix> device;
};

Stack make_stack(CudaOps& gpu, const FormatSpec& f, int64_t experts, int64_t distinct, int64_t rows, int64_t cols) {
  Stack s;
  s.storage.reserve(static_cast<size_t>(distinct));
  for (int64_t i = 0; i < distinct; ++i) s.storage.push_back(random_weight(f, rows, cols));
  std::vector<WeightMatrix> placed;
  for (const auto& w : s.storage) placed.push_back(gpu.place_weight(w.m));
  for (int64_t e = 0; e < experts; ++e) {
    s.host.experts.push_back(s.storage[static_cast<size_t>(e % distinct)].m);
    s.device.push_back(placed[static_cast<size_t>(e % distinct)]);
  }
  return s;
}

void CudaMoeDecodeTest::run_case(const MoeCase& c) {
  const FormatSpec ef = format_named(c.expert_format);
  const int64_t E = c.experts, k = c.top_k, H = c.hidden, I = c.inter;
  const int64_t distinct = c.distinct ? c.distinct : E;
  Stack gate = make_stack(*gpu_, ef, E, distinct, I, H), up = make_stack(*gpu_, ef, E, distinct, I, H),
        down = make_stack(*gpu_, ef, E, distinct, H, I);
  const ExpertTable tg = device_table(gate.device), tu = device_table(up.device), td = device_table(down.device);

  const int64_t S = c.shared ? c.shared->inter : 0;
  std::optional<HostWeight> sg, su, sd, sr;
  WeightMatrix dsg, dsu, dsd, dsr;
  if (c.shared) {
    const FormatSpec sf = format_named(c.shared->format);
    sg = random_weight(sf, S, H), su = random_weight(sf, S, H), sd = random_weight(sf, H, S);
    sr = random_weight(format_named("affine8_g64"), 1, H);
    dsg = gpu_->place_weight(sg->m), dsu = gpu_->place_weight(su->m), dsd = gpu_->place_weight(sd->m);
    dsr = gpu_->place_weight(sr->m);
  }

  for (const int64_t n : c.tokens) {
    SCOPED_TRACE(describe(c, n));
    const int64_t xs = H + 3, os = H + 5, ls = E + 1;  // strides that are not the width
    std::vector<float> x = random_floats(static_cast<size_t>(n * xs), -2, 2);
    std::vector<float> norm = random_floats(static_cast<size_t>(H), 0.5f, 1.5f);
    std::vector<float> logits = tie_free_logits(n, E, ls);
    std::vector<float> out0 = random_floats(static_cast<size_t>(n * os));

    // ---- CPU composition ----
    std::vector<float> xhat(static_cast<size_t>(n * H));
    if (c.transform == StageTransform::rms_norm) {
      cpu_.rms_norm({host_tensor(x, n, H, xs), host_tensor(xhat, n, H), norm.data(), H, 1e-6f});
    } else {
      xhat = packed(x, n, H, xs);
    }
    std::vector<int32_t> want_idx(static_cast<size_t>(n * k));
    std::vector<float> want_w(static_cast<size_t>(n * k));
    cpu_.route({host_tensor(logits, n, E, ls), k, c.normalize, want_idx.data(), want_w.data()});
    std::vector<float> block(static_cast<size_t>(n * H), 0.0f);
    cpu_.moe({host_tensor(xhat, n, H), &gate.host, &up.host, &down.host, want_idx.data(), want_w.data(), k,
              host_tensor(block, n, H)});
    if (c.shared) {
      std::vector<float> g(static_cast<size_t>(n * S)), u(static_cast<size_t>(n * S)), y(static_cast<size_t>(n * H)),
          row_gate(static_cast<size_t>(n));
      cpu_.matmul({&sg->m, host_tensor(xhat, n, H), host_tensor(g, n, S), false});
      cpu_.matmul({&su->m, host_tensor(xhat, n, H), host_tensor(u, n, S), false});
      cpu_.swiglu({host_tensor(g, n, S), host_tensor(u, n, S), host_tensor(g, n, S)});
      cpu_.matmul({&sd->m, host_tensor(g, n, S), host_tensor(y, n, H), false});
      cpu_.matmul({&sr->m, host_tensor(xhat, n, H), host_tensor(row_gate, n, 1), false});
      cpu_.add({host_tensor(block, n, H), host_tensor(y, n, H), host_tensor(row_gate, n, 1)});
    }
    std::vector<float> want = out0;
    cpu_.add({host_tensor(want, n, H, os), host_tensor(block, n, H), Tensor{}});

    // ---- fused launch ----
    DeviceFloats dx(*gpu_, x), dnorm(*gpu_, norm), dlogits(*gpu_, logits), dout(*gpu_, out0);
    DeviceFloats dw(*gpu_, static_cast<size_t>(n * k));
    dw.poison();
    auto* di = static_cast<int32_t*>(gpu_->alloc(static_cast<size_t>(n * k) * 4));
    const std::vector<int32_t> bad_idx(static_cast<size_t>(n * k), -1);
    gpu_->upload(di, bad_idx.data(), bad_idx.size() * 4);
    const size_t ws_bytes = moe_decode_workspace_bytes(n, k, I, S);
    DeviceFloats dws(*gpu_, (ws_bytes + 3) / 4);
    dws.poison();

    MoeDecodeLaunch l;
    l.gate = tg, l.up = tu, l.down = td;
    l.x.x = dx.get(), l.x.x_stride = xs, l.x.cols = H, l.x.n = n, l.x.transform = c.transform;
    l.x.norm_weight = dnorm.get(), l.x.eps = 1e-6f;
    l.router_logits = dlogits.get(), l.logits_stride = ls;
    l.top_k = k, l.normalize = c.normalize;
    if (c.shared) l.shared_gate = &dsg, l.shared_up = &dsu, l.shared_down = &dsd, l.shared_gate_row = &dsr;
    l.indices = di, l.weights = dw.get();
    l.out = dout.get(), l.out_stride = os;
    l.workspace = dws.get();
    launch_moe_decode_fused(l, gpu_->stream());

    std::vector<int32_t> got_idx(static_cast<size_t>(n * k));
    gpu_->download(got_idx.data(), di, got_idx.size() * 4);
    EXPECT_EQ(got_idx, want_idx);
    EXPECT_LT(max_rel_error(dw.download(), want_w), kFp32) << "routing weights";
    const std::vector<float> got = dout.download();
    EXPECT_LT(max_rel_error(packed(got, n, H, os), packed(want, n, H, os)), kFp32) << "block output";
    // The block's own contribution too, so that a large residual cannot hide an error in it.
    std::vector<float> got_delta = packed(got, n, H, os);
    const std::vector<float> base = packed(out0, n, H, os);
    for (size_t i = 0; i < got_delta.size(); ++i) got_delta[i] -= base[i];
    EXPECT_LT(max_rel_error(got_delta, block), kFp32) << "block contribution";
    // Decode must be reproducible run to run (no float atomics, fixed summation orders): the same launch
    // on the same inputs, the workspace poisoned again, gives the same bits.
    gpu_->upload(dout.get(), out0.data(), out0.size() * sizeof(float));
    dws.poison();
    launch_moe_decode_fused(l, gpu_->stream());
    const std::vector<float> again = dout.download();
    EXPECT_EQ(0, std::memcmp(again.data(), got.data(), got.size() * sizeof(float))) << "second run differs";
    gpu_->release(di);
  }
}

TEST_F(CudaMoeDecodeTest, ModelShapeWithSharedExpertMatchesCpuComposition) {
  // Qwen3.5/3.6-35B-A3B: 256 experts, top 8, hidden 2048, expert and shared intermediate 512.
  run_case({"affine4_g64", 256, 8, 2048, 512, SharedSpec{"affine4_g64", 512}, 24, {1, 2, 5, 8}, true,
            StageTransform::rms_norm});
}

TEST_F(CudaMoeDecodeTest, ModelShapeWithoutSharedExpertAndRawWeightsMatchesCpuComposition) {
  run_case({"affine4_g64", 256, 8, 2048, 512, std::nullopt, 24, {1, 3, 8}, false, StageTransform::rms_norm});
}

TEST_F(CudaMoeDecodeTest, SmallConfigsMatchCpuComposition) {
  // 4 experts top 2 at hidden 64; an input without a norm; normalisation off.
  run_case({"affine4_g64", 4, 2, 64, 64, SharedSpec{"affine4_g64", 64}, 0, {1, 2, 7}, true, StageTransform::rms_norm});
  run_case({"affine4_g64", 4, 2, 64, 64, SharedSpec{"affine4_g64", 128}, 0, {1, 4}, false, StageTransform::none});
  run_case({"affine4_g32", 16, 4, 256, 96, std::nullopt, 0, {2, 6}, true, StageTransform::none});
  // top_k = experts and the largest top_k the kernels take.
  run_case({"affine4_g64", 3, 3, 128, 64, SharedSpec{"affine4_g64", 64}, 0, {1, 8}, true, StageTransform::rms_norm});
  run_case({"affine4_g64", 40, 16, 128, 64, SharedSpec{"affine4_g64", 64}, 0, {3}, true, StageTransform::rms_norm});
}

TEST_F(CudaMoeDecodeTest, AffineLayoutsOnAndOffTheBf16LoadSplitMatchCpuComposition) {
  // The load/decode split (affine_bf16_chunks.cuh) at 8 bits and at groups of 32 and 128 columns.
  run_case({"affine8_g64", 32, 8, 512, 128, SharedSpec{"affine8_g64", 128}, 16, {1, 6}, true, StageTransform::rms_norm});
  run_case({"affine4_g128", 16, 4, 256, 128, SharedSpec{"affine4_g128", 256}, 0, {1, 3}, true, StageTransform::rms_norm});
  // Not split: f16 scales, and a shared expert whose groups differ from the experts' (same codec).
  run_case({"affine4_g64_f16scales", 16, 4, 256, 128, SharedSpec{"affine4_g64_f16scales", 128}, 0, {1, 4}, true,
            StageTransform::rms_norm});
  run_case({"affine4_g64", 16, 4, 256, 128, SharedSpec{"affine4_g32", 64}, 0, {2, 8}, false, StageTransform::rms_norm});
}

TEST_F(CudaMoeDecodeTest, Bf16AndMxfp4ExpertsMatchCpuComposition) {
  run_case({"bf16", 64, 8, 512, 128, SharedSpec{"bf16", 128}, 16, {1, 8}, true, StageTransform::rms_norm});
  run_case({"mxfp4", 32, 4, 256, 64, SharedSpec{"mxfp4", 96}, 0, {1, 5}, true, StageTransform::rms_norm});
  run_case({"nvfp4", 8, 2, 128, 64, std::nullopt, 0, {2}, false, StageTransform::rms_norm});
}

TEST_F(CudaMoeDecodeTest, GenericDecoderCoversMixedFormatsAndOddWidths) {
  // Shared expert in another format than the experts: both kernels fall back to the generic decoder.
  run_case({"mxfp4", 16, 4, 256, 64, SharedSpec{"affine4_g64", 128}, 0, {1, 4}, true, StageTransform::rms_norm});
  // Widths that are not whole 32-element chunks (parts padded in the down kernel's staging).
  run_case({"bf16", 6, 3, 96, 40, SharedSpec{"bf16", 24}, 0, {1, 3}, true, StageTransform::rms_norm});
  run_case({"affine3_g64", 8, 2, 128, 64, SharedSpec{"affine3_g64", 64}, 0, {2}, true, StageTransform::none});
}

TEST(CudaMoeDecodeLaunchTest, RejectsWhatTheKernelsDoNotHandleWithAClearError) {
  // Checked on the host before any device work, so this runs without a GPU too.
  WeightMatrix g;
  g.format = WeightFormat::dense, g.dtype = DType::bf16, g.rows = 32, g.cols = 64;
  WeightMatrix d = g;
  d.rows = 64, d.cols = 32;
  ExpertTable tg, td;
  tg.shape = g, tg.count = 4, td.shape = d, td.count = 4;
  float dummy = 0.0f;
  int32_t idx = 0;
  MoeDecodeLaunch base;
  base.gate = tg, base.up = tg, base.down = td;
  base.x.x = &dummy, base.x.cols = 64, base.x.n = 1;
  base.router_logits = &dummy, base.top_k = 2;
  base.indices = &idx, base.weights = &dummy, base.out = &dummy, base.workspace = &dummy;

  const auto expect_rejected = [](const MoeDecodeLaunch& l, const char* why) {
    try {
      launch_moe_decode_fused(l, nullptr);
      ADD_FAILURE() << "accepted: " << why;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::unsupported) << why;
      EXPECT_NE(std::string(e.what()).find("fused MoE decode"), std::string::npos) << e.what();
    }
  };
  MoeDecodeLaunch l = base;
  l.x.n = kMoeDecodeMaxTokens + 1;
  expect_rejected(l, "too many tokens");
  l = base;
  l.x.n = 0;
  expect_rejected(l, "no tokens");
  l = base;
  l.top_k = 5;
  expect_rejected(l, "top_k above the expert count");
  l = base;
  l.x.cols = 128;
  expect_rejected(l, "input width unlike the experts'");
  l = base;
  l.shared_gate = &g;
  expect_rejected(l, "shared expert with only its gate");
  l = base;
  l.workspace = nullptr;
  expect_rejected(l, "no workspace");
}

}  // namespace
}  // namespace hearth::engine::cuda
