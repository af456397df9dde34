#pragma once
// The comparisons of a whole model against the tiny models' reference logits (reference_data.h), shared
// by the CPU test (reference_logits_test.cpp) and the CUDA test (cuda_model_test.cpp): each backend's
// fixture derives from TinyModelReferenceTest, says how to load a model and its error budget, and its
// TEST_Ps call the expect_* bodies below, so both backends are held to the same checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "engine/model.h"
#include "engine/qwen35_model.h"
#include "reference_data.h"

namespace hearth::engine::testing {

// Every tiny model: each architecture, naming scheme and weight format.
inline const std::vector<std::string>& tiny_model_names() {
  static const std::vector<std::string> names = {
      "dense-hf-bf16",       "moe-hf-bf16-sharded", "dense-mlx-affine4-g64",           "dense-mlx-affine8-g32",
      "dense-mlx-affine4-g128-overrides", "dense-mlx-nvfp4", "moe-mlx-affine4-g64", "moe-mlx-mxfp4",
      "moe-mlx-nvfp4",       "qwen3-hf-bf16",       "qwen3moe-hf-bf16",
  };
  return names;
}

// A test name from a model name: gtest names allow only letters, digits and '_'.
inline std::string tiny_model_test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string s = info.param;
  for (char& ch : s) if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return s;
}

class TinyModelReferenceTest : public ::testing::TestWithParam<std::string> {
 protected:
  // report_label names the one line per model printed at the end with the largest logits error.
  TinyModelReferenceTest(double tolerance, std::string report_label)
      : tolerance_(tolerance), report_label_(std::move(report_label)) {}

  virtual std::unique_ptr<Model> load(const std::string& name) = 0;

  void SetUp() override {
    ref_ = Reference::load(tiny_model_dir(GetParam()));
    model_ = load(GetParam());
    ASSERT_EQ(model_->info().vocab_size, ref_.vocab);
  }
  void TearDown() override {
    // One line per model for the closing note.
    if (model_) std::printf("[ %s ] %-34s %.3g\n", report_label_.c_str(), GetParam().c_str(), worst_);
  }

  void check(const std::vector<float>& expected, const std::string& what) {
    const auto got = model_->logits();
    const double err = relative_error(got.data(), expected.data(), expected.size());
    worst_ = std::max(worst_, err);
    EXPECT_LT(err, tolerance_) << what;
  }

  std::span<const Token> prompt_prefix(int64_t tokens) const {
    return std::span(ref_.prompt).first(static_cast<size_t>(tokens));
  }

  void expect_prefills_match() {
    for (const auto& p : ref_.prefill) {
      model_->reset();
      model_->prefill(prompt_prefix(p.tokens));
      check(p.logits, "prefill of " + std::to_string(p.tokens) + " tokens");
    }
  }

  void expect_decode_steps_match_and_pick_the_same_greedy_tokens() {
    model_->prefill(prompt_prefix(ref_.decode_prompt));
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

  void expect_free_running_greedy_continuation_matches() {
    model_->prefill(prompt_prefix(ref_.decode_prompt));
    std::vector<Token> generated;
    for (size_t i = 0; i < ref_.decode_tokens.size(); ++i) {
      const Token t = argmax(model_->logits().data(), model_->logits().size());
      generated.push_back(t);
      model_->prefill(std::span(&t, 1));
    }
    EXPECT_EQ(generated, ref_.decode_tokens);
  }

  void expect_residual_stream_after_every_layer_matches() {
    auto* qwen = dynamic_cast<Qwen35Model*>(model_.get());
    ASSERT_NE(qwen, nullptr);
    std::map<std::string, std::vector<float>> seen;
    qwen->set_observer([&](const std::string& name, const std::vector<float>& data, int64_t, int64_t) { seen[name] = data; });
    model_->prefill(prompt_prefix(ref_.hidden_tokens));
    const size_t per = static_cast<size_t>(ref_.hidden_tokens * ref_.hidden_width);
    for (int64_t e = 0; e < ref_.hidden_entries; ++e) {
      const std::string name = e == 0 ? "embed" : "blk." + std::to_string(e - 1) + ".out";
      ASSERT_TRUE(seen.count(name)) << name;
      ASSERT_EQ(seen[name].size(), per) << name;
      const double err = relative_error(seen[name].data(), ref_.hidden.data() + static_cast<size_t>(e) * per, per);
      EXPECT_LT(err, tolerance_) << name;
    }
  }

  Reference ref_;
  std::unique_ptr<Model> model_;
  double worst_ = 0;

 private:
  double tolerance_;
  std::string report_label_;
};

}  // namespace hearth::engine::testing
