// The CPU engine against transformers' reference logits for tiny random models of every architecture,
// naming scheme and weight format (testdata/tiny, made by tools/tiny_models/make_tiny_models.py).
// Quantized models are compared with the reference run on their dequantised weights.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>

#include "engine/loader.h"
#include "engine/qwen35_model.h"
#include "reference_data.h"

namespace hearth::engine {
namespace {

using testing::argmax;
using testing::Reference;
using testing::relative_error;
using testing::tiny_model_dir;

constexpr double kTolerance = 1e-4;

const std::vector<std::string> kModels = {
    "dense-hf-bf16",       "moe-hf-bf16-sharded", "dense-mlx-affine4-g64",           "dense-mlx-affine8-g32",
    "dense-mlx-affine4-g128-overrides", "dense-mlx-nvfp4", "moe-mlx-affine4-g64", "moe-mlx-mxfp4",
    "moe-mlx-nvfp4",       "qwen3-hf-bf16",       "qwen3moe-hf-bf16",
};

std::unique_ptr<Model> load(const std::string& name) {
  LoadOptions o;
  o.model_dir = tiny_model_dir(name);
  o.max_context = 512;
  o.threads = 2;
  o.device = Device::cpu;  // the CPU engine (a GPU machine would pick CUDA)
  return load_model(o);
}

class ReferenceLogits : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ref_ = Reference::load(tiny_model_dir(GetParam()));
    model_ = load(GetParam());
    ASSERT_EQ(model_->info().vocab_size, ref_.vocab);
  }
  void TearDown() override {
    // One line per model for the closing note.
    std::printf("[ largest error ] %-34s %.3g\n", GetParam().c_str(), worst_);
  }
  double check(const std::vector<float>& expected, const std::string& what) {
    const auto got = model_->logits();
    const double err = relative_error(got.data(), expected.data(), expected.size());
    worst_ = std::max(worst_, err);
    EXPECT_LT(err, kTolerance) << what;
    return err;
  }
  Reference ref_;
  std::unique_ptr<Model> model_;
  double worst_ = 0;
};

TEST_P(ReferenceLogits, PrefillOf1_7_64_200TokensMatchesTransformers) {
  for (const auto& p : ref_.prefill) {
    model_->reset();
    model_->prefill(std::span(ref_.prompt).first(static_cast<size_t>(p.tokens)));
    check(p.logits, "prefill of " + std::to_string(p.tokens) + " tokens");
  }
}

TEST_P(ReferenceLogits, ThirtyTwoDecodeStepsMatchTransformersAndPickTheSameGreedyTokens) {
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

TEST_P(ReferenceLogits, FreeRunningGreedyContinuationEqualsTransformers) {
  model_->prefill(std::span(ref_.prompt).first(static_cast<size_t>(ref_.decode_prompt)));
  std::vector<Token> generated;
  for (size_t i = 0; i < ref_.decode_tokens.size(); ++i) {
    const Token t = argmax(model_->logits().data(), model_->logits().size());
    generated.push_back(t);
    model_->prefill(std::span(&t, 1));
  }
  EXPECT_EQ(generated, ref_.decode_tokens);
}

TEST_P(ReferenceLogits, ResidualStreamAfterEveryLayerMatchesTransformers) {
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
    const double err = relative_error(seen[name].data(), ref_.hidden.data() + static_cast<size_t>(e) * per, per);
    EXPECT_LT(err, kTolerance) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(TinyModels, ReferenceLogits, ::testing::ValuesIn(kModels),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string s = info.param;
                           for (char& ch : s) if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return s;
                         });

}  // namespace
}  // namespace hearth::engine
