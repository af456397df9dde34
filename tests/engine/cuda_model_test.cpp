// The whole model on the CUDA backend against transformers' reference logits for the tiny models of
// every architecture and weight format (testdata/tiny), with decode steps replayed from a recorded
// CUDA graph; plus graph-vs-eager equality, exact state restore, and the up-front memory check.
//
// Precision::exact, error budget: max |logit − reference| / max |reference| < 1e-3. The kernels compute
// in float32 (the tensor-core ones with operands split into bf16 hi + lo), so the measured errors are
// ~1e-5; the budget leaves room for summation order, and the greedy tokens must be identical (the
// references' closest top-2 gap is 4e-3 on logits of magnitude ~9).
//
// Precision::fast (the default: bf16 operands in the prefill products), budget kFastTolerance: each
// prefill product carries bf16's ~2e-3 relative error (tests/engine/cuda_test_util.h) and a layer chains
// several, so logits may be off by ~1e-2 of their scale — more than the references' closest top-2 gaps.
// Greedy identity therefore cannot be asserted in fast mode in general; it is asserted at the steps
// where the reference's top-1/top-2 margin exceeds twice the logit budget (there no logit within budget
// can change the winner), and everywhere in exact mode.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "engine/cuda/cuda_ops.h"
#include "engine/loader.h"
#include "engine/qwen35_model.h"
#include "reference_compare.h"

namespace hearth::engine {
namespace {

using testing::relative_error;
using testing::tiny_model_dir;

constexpr double kTolerance = 1e-3;
constexpr double kFastTolerance = 3e-2;
// MoE models route each token to its top-k experts, a discontinuous choice: a router logit perturbed
// within bf16's budget can swap a near-tied expert, and the logits then move by more than the smooth
// budget (measured on the H100, 2026-11-25: 0.064 at one decode step of moe-mlx-affine4-g64, whose router
// is 8-bit; every dense model and the other MoE models stayed under 0.03).
constexpr double kFastMoeTolerance = 1e-1;

double fast_tolerance(const std::string& model) {
  return model.find("moe") != std::string::npos ? kFastMoeTolerance : kFastTolerance;
}

std::unique_ptr<Model> load_cuda(const std::string& name, int64_t max_context = 512,
                                 Precision precision = Precision::exact) {
  LoadOptions o;
  o.model_dir = tiny_model_dir(name);
  o.max_context = max_context;
  o.device = Device::cuda;
  o.precision = precision;
  return load_model(o);
}

cuda::CudaOps& cuda_ops(Model& m) {
  auto* qwen = dynamic_cast<Qwen35Model*>(&m);
  EXPECT_NE(qwen, nullptr);
  auto* ops = dynamic_cast<cuda::CudaOps*>(&qwen->ops());
  EXPECT_NE(ops, nullptr);
  return *ops;
}

std::vector<float> logits_of(const Model& m) { return {m.logits().begin(), m.logits().end()}; }

class CudaReferenceLogits : public testing::TinyModelReferenceTest {
 protected:
  CudaReferenceLogits() : TinyModelReferenceTest(kTolerance, "cuda largest error") {}
  void SetUp() override {
    if (!cuda::device_available()) GTEST_SKIP() << "no CUDA device";
    TinyModelReferenceTest::SetUp();
  }
  std::unique_ptr<Model> load(const std::string& name) override { return load_cuda(name); }
};

TEST_P(CudaReferenceLogits, PrefillOf1_7_64_200TokensMatchesTransformers) { expect_prefills_match(); }

TEST_P(CudaReferenceLogits, ThirtyTwoGraphReplayedDecodeStepsMatchTransformersAndPickTheSameGreedyTokens) {
  expect_decode_steps_match_and_pick_the_same_greedy_tokens();
}

TEST_P(CudaReferenceLogits, FreeRunningGreedyContinuationEqualsTransformers) {
  expect_free_running_greedy_continuation_matches();
}

TEST_P(CudaReferenceLogits, ResidualStreamAfterEveryLayerMatchesTransformers) {
  expect_residual_stream_after_every_layer_matches();
}

TEST_P(CudaReferenceLogits, GraphReplayedDecodeEqualsEagerDecode) {
  std::unique_ptr<Model> eager = load_cuda(GetParam());
  cuda_ops(*eager).set_profiling(true);  // profiling runs every op eagerly (no recording)
  const auto prompt = prompt_prefix(ref_.decode_prompt);
  model_->prefill(prompt);
  eager->prefill(prompt);
  for (size_t i = 0; i < 8; ++i) {
    const Token t = ref_.decode_tokens[i];
    model_->prefill(std::span(&t, 1));
    eager->prefill(std::span(&t, 1));
    const auto a = logits_of(*model_), b = logits_of(*eager);
    EXPECT_LT(relative_error(a.data(), b.data(), a.size()), 1e-5) << "step " << i;
  }
}

TEST_P(CudaReferenceLogits, RestoredStateContinuesBitIdentically) {
  model_->prefill(prompt_prefix(ref_.decode_prompt));
  const auto snapshot = model_->save_state();
  std::vector<std::vector<float>> first, second;
  for (int pass = 0; pass < 2; ++pass) {
    if (pass == 1) model_->restore_state(*snapshot);
    for (size_t i = 0; i < 6; ++i) {
      const Token t = ref_.decode_tokens[i];
      model_->prefill(std::span(&t, 1));
      (pass == 0 ? first : second).push_back(logits_of(*model_));
    }
  }
  EXPECT_EQ(first, second);
}

INSTANTIATE_TEST_SUITE_P(TinyModels, CudaReferenceLogits, ::testing::ValuesIn(testing::tiny_model_names()),
                         testing::tiny_model_test_name);

class CudaFastReferenceLogits : public testing::TinyModelReferenceTest {
 protected:
  CudaFastReferenceLogits() : TinyModelReferenceTest(fast_tolerance(GetParam()), "cuda fast largest error") {}
  void SetUp() override {
    if (!cuda::device_available()) GTEST_SKIP() << "no CUDA device";
    TinyModelReferenceTest::SetUp();
  }
  std::unique_ptr<Model> load(const std::string& name) override { return load_cuda(name, 512, Precision::fast); }

  void expect_finite_logits(const std::string& what) {
    const auto l = model_->logits();
    EXPECT_TRUE(std::all_of(l.begin(), l.end(), [](float v) { return std::isfinite(v); })) << what;
  }
};

TEST_P(CudaFastReferenceLogits, PrefillOf1_7_64_200TokensMatchesTransformersWithinTheBf16Budget) {
  for (const auto& p : ref_.prefill) {
    model_->reset();
    model_->prefill(prompt_prefix(p.tokens));
    expect_finite_logits("prefill of " + std::to_string(p.tokens) + " tokens");
    check(p.logits, "prefill of " + std::to_string(p.tokens) + " tokens");
  }
}

TEST_P(CudaFastReferenceLogits, DecodeAfterAFastPrefillPicksTheReferenceTokenWhereItsMarginExceedsTheBudget) {
  model_->prefill(prompt_prefix(ref_.decode_prompt));
  int asserted = 0;
  for (size_t i = 0; i + 1 < ref_.decode_tokens.size(); ++i) {
    const Token t = ref_.decode_tokens[i];
    model_->prefill(std::span(&t, 1));
    const std::vector<float>& want = ref_.decode_logits[i];
    expect_finite_logits("decode step " + std::to_string(i));
    check(want, "decode step " + std::to_string(i));
    std::vector<float> sorted = want;
    std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<float>());
    double scale = 0;
    for (float v : want) scale = std::max(scale, static_cast<double>(std::fabs(v)));
    if (sorted[0] - sorted[1] > 2 * fast_tolerance(GetParam()) * scale) {
      ++asserted;
      EXPECT_EQ(testing::argmax(model_->logits().data(), model_->logits().size()), ref_.decode_tokens[i + 1])
          << "step " << i << " (reference margin " << sorted[0] - sorted[1] << ")";
    }
  }
  std::printf("[ fast greedy ] %-34s tokens asserted at %d of %zu steps\n", GetParam().c_str(), asserted,
              ref_.decode_tokens.size() - 1);
}

INSTANTIATE_TEST_SUITE_P(TinyModels, CudaFastReferenceLogits, ::testing::ValuesIn(testing::tiny_model_names()),
                         testing::tiny_model_test_name);

TEST(CudaMemoryPlan, AModelThatCannotHoldItsContextIsRefusedNamingTheParts) {
  if (!cuda::device_available()) GTEST_SKIP() << "no CUDA device";
  try {
    load_cuda("dense-mlx-affine4-g64", int64_t{1} << 36);
    FAIL() << "a 2^36-token KV cache was accepted";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("does not fit on the GPU"), std::string::npos) << what;
    EXPECT_NE(what.find("KV cache"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace hearth::engine
