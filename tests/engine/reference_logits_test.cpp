// The CPU engine against transformers' reference logits for tiny random models of every architecture,
// naming scheme and weight format (testdata/tiny, made by tools/tiny_models/make_tiny_models.py).
// Quantized models are compared with the reference run on their dequantised weights.
#include <gtest/gtest.h>

#include "engine/loader.h"
#include "reference_compare.h"

namespace hearth::engine {
namespace {

using testing::tiny_model_dir;

constexpr double kTolerance = 1e-4;

class ReferenceLogits : public testing::TinyModelReferenceTest {
 protected:
  ReferenceLogits() : TinyModelReferenceTest(kTolerance, "largest error") {}
  std::unique_ptr<Model> load(const std::string& name) override {
    LoadOptions o;
    o.model_dir = tiny_model_dir(name);
    o.max_context = 512;
    o.threads = 2;
    o.device = Device::cpu;  // the CPU engine (a GPU machine would pick CUDA)
    return load_model(o);
  }
};

TEST_P(ReferenceLogits, PrefillOf1_7_64_200TokensMatchesTransformers) { expect_prefills_match(); }

TEST_P(ReferenceLogits, ThirtyTwoDecodeStepsMatchTransformersAndPickTheSameGreedyTokens) {
  expect_decode_steps_match_and_pick_the_same_greedy_tokens();
}

TEST_P(ReferenceLogits, FreeRunningGreedyContinuationEqualsTransformers) {
  expect_free_running_greedy_continuation_matches();
}

TEST_P(ReferenceLogits, ResidualStreamAfterEveryLayerMatchesTransformers) {
  expect_residual_stream_after_every_layer_matches();
}

INSTANTIATE_TEST_SUITE_P(TinyModels, ReferenceLogits, ::testing::ValuesIn(testing::tiny_model_names()),
                         testing::tiny_model_test_name);

}  // namespace
}  // namespace hearth::engine
