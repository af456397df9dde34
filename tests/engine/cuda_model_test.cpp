// The whole model on the CUDA backend against transformers' reference logits for the tiny models of
// every architecture and weight format (testdata/tiny), with decode steps replayed from a recorded
// CUDA graph; plus graph-vs-eager equality, exact state restore, and the up-front memory check.
//
// Error budget: max |logit − reference| / max |reference| < 1e-3. The kernels compute in float32 (the
// tensor-core ones with operands split into bf16 hi + lo), so the measured errors are ~1e-5; the budget
// leaves room for summation order, and the greedy tokens must be identical (the references' closest
// top-2 gap is 4e-3 on logits of magnitude ~9).
#include <gtest/gtest.h>

#include <cstdio>
#include <map>

#include "engine/cuda/cuda_ops.h"
#include "engine/loader.h"
#include "engine/qwen35_model.h"
#include "reference_data.h"

namespace hearth::engine {
namespace {

using testing::argmax;
using testing::Reference;
using testing::relative_error;
using testing::tiny_model_dir;

constexpr double kTolerance = 1e-3;

const std::vector<std::string> kModels = {
    "dense-hf-bf16",       "moe-hf-bf16-sharded", "dense-mlx-affine4-g64",           "dense-mlx-affine8-g32",
    "dense-mlx-affine4-g128-overrides", "dense-mlx-nvfp4", "moe-mlx-affine4-g64", "moe-mlx-mxfp4",
    "moe-mlx-nvfp4",       "qwen3-hf-bf16",       "qwen3moe-hf-bf16",
};

std::unique_ptr<Model> load_cuda(const std::string& name, int64_t max_context = 512) {
  LoadOptions o;
  o.model_dir = tiny_model_dir(name);
  o.max_context = max_context;
  o.device = Device::cuda;
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

class CudaReferenceLogits : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!cuda::device_available()) GTEST_SKIP() << "no CUDA device";
    ref_ = Reference::load(tiny_model_dir(GetParam()));
    model_ = load_cuda(GetParam());
    ASSERT_EQ(model_->info().vocab_size, ref_.vocab);
  }
  void TearDown() override {
    if (model_) std::printf("[ cuda largest error ] %-34s %.3g\n", GetParam().c_str(), worst_);
  }
  void check(const std::vector<float>& expected, const std::string& what) {
    const auto got = model_->logits();
    const double err = relative_error(got.data(), expected.data(), expected.size());
    worst_ = std::max(worst_, err);
    EXPECT_LT(err, kTolerance) << what;
  }
  Reference ref_;
  std::unique_ptr<Model> model_;
  double worst_ = 0;
};

TEST_P(CudaReferenceLogits, PrefillOf1_7_64_200TokensMatchesTransformers) {
  for (const auto& p : ref_.prefill) {
    model_->reset();
    model_->prefill(std::span(ref_.prompt).first(static_cast<size_t>(p.tokens)));
    check(p.logits, "prefill of " + std::to_string(p.tokens) + " tokens");
  }
}

TEST_P(CudaReferenceLogits, ThirtyTwoGraphReplayedDecodeStepsMatchTransformersAndPickTheSameGreedyTokens) {
  model_->prefill(std::span(ref_.prompt).first(static_cast<size_t>(ref_.decode_prompt)));
  ASSERT_EQ(argmax(model_->logits().data(), model_->logits().size()), ref_.decode_tokens[0]);
  for (size_t i = 0; i < ref_.decode_tokens.size(); ++i) {
    const Token t = ref_.decode_tokens[i];
    model_->prefill(std::span(&t, 1));
    check(ref_.decode_logits[i], "decode step " + std::to_string(i));
    if (i + 1 < ref_.decode_tokens.size()) {
      EXPECT_EQ(argmax(model_->logits().data(), model_->logits().size()), ref_.decode_tokens[i + 1]) << "step " << i;
    }
  }
}

TEST_P(CudaReferenceLogits, FreeRunningGreedyContinuationEqualsTransformers) {
  model_->prefill(std::span(ref_.prompt).first(static_cast<size_t>(ref_.decode_prompt)));
  std::vector<Token> generated;
  for (size_t i = 0; i < ref_.decode_tokens.size(); ++i) {
    const Token t = argmax(model_->logits().data(), model_->logits().size());
    generated.push_back(t);
    model_->prefill(std::span(&t, 1));
  }
  EXPECT_EQ(generated, ref_.decode_tokens);
}

TEST_P(CudaReferenceLogits, ResidualStreamAfterEveryLayerMatchesTransformers) {
  auto* qwen = dynamic_cast<Qwen35Model*>(model_.get());
  ASSERT_NE(qwen, nullptr);
  std::map<std::string, std::vector<float>> seen;
  qwen->set_observer([&](const std::string& name, const std::vector<float>& data, int64_t, int64_t) { seen[name] = data; });
  model_->prefill(std::span(ref_.prompt).first(static_cast<size_t>(ref_.hidden_tokens)));
  const size_t per = static_cast<size_t>(ref_.hidden_tokens * ref_.hidden_width);
  for (int64_t e = 0; e < ref_.hidden_entries; ++e) {
    const std::string name = e == 0 ? "embed" : "blk." + std::to_string(e - 1) + ".out";
    ASSERT_TRUE(seen.count(name)) << name;
    ASSERT_EQ(seen[name].size(), per) << name;
    EXPECT_LT(relative_error(seen[name].data(), ref_.hidden.data() + static_cast<size_t>(e) * per, per), kTolerance)
        << name;
  }
}

TEST_P(CudaReferenceLogits, GraphReplayedDecodeEqualsEagerDecode) {
  std::unique_ptr<Model> eager = load_cuda(GetParam());
  cuda_ops(*eager).set_profiling(true);  // profiling runs every op eagerly (no recording)
  const auto prompt = std::span(ref_.prompt).first(static_cast<size_t>(ref_.decode_prompt));
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
  model_->prefill(std::span(ref_.prompt).first(static_cast<size_t>(ref_.decode_prompt)));
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

INSTANTIATE_TEST_SUITE_P(TinyModels, CudaReferenceLogits, ::testing::ValuesIn(kModels),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string s = info.param;
                           for (char& ch : s) if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return s;
                         });

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
