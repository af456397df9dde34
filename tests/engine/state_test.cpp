// Per-sequence state: chunking of the prefill does not change the result, and snapshots restore
// exactly (the prompt cache relies on both).
#include <gtest/gtest.h>

#include <sstream>

#include "engine/loader.h"
#include "engine/qwen35_model.h"
#include "reference_data.h"
#include "util/error.h"

namespace hearth::engine {
namespace {

using testing::Reference;
using testing::relative_error;
using testing::tiny_model_dir;

std::unique_ptr<Model> load(const std::string& name, int64_t max_context = 512) {
  LoadOptions o;
  o.model_dir = tiny_model_dir(name);
  o.max_context = max_context;
  o.threads = 2;
  return load_model(o);
}

std::vector<float> state_of(const Model& m) {
  auto snap = m.save_state();
  return dynamic_cast<const Qwen35Snapshot&>(*snap).flat();
}

class ChunkedPrefill : public ::testing::TestWithParam<std::string> {};

TEST_P(ChunkedPrefill, OneChunkSeveralChunksAndTokenByTokenGiveTheSameStateAndLogits) {
  const Reference ref = Reference::load(tiny_model_dir(GetParam()));
  const std::span<const Token> prompt(ref.prompt);
  auto model = load(GetParam());

  model->prefill(prompt);
  const std::vector<float> one_logits(model->logits().begin(), model->logits().end());
  const std::vector<float> one_state = state_of(*model);

  for (size_t chunk : {size_t(64), size_t(13), size_t(1)}) {
    model->reset();
    for (size_t i = 0; i < prompt.size(); i += chunk) model->prefill(prompt.subspan(i, std::min(chunk, prompt.size() - i)));
    ASSERT_EQ(model->position(), static_cast<int64_t>(prompt.size()));
    EXPECT_LT(relative_error(model->logits().data(), one_logits.data(), one_logits.size()), 1e-5) << "chunk " << chunk;
    const std::vector<float> state = state_of(*model);
    ASSERT_EQ(state.size(), one_state.size());
    EXPECT_LT(relative_error(state.data(), one_state.data(), state.size()), 1e-5) << "chunk " << chunk;
  }
}

INSTANTIATE_TEST_SUITE_P(TinyModels, ChunkedPrefill, ::testing::Values("dense-hf-bf16", "moe-mlx-affine4-g64", "qwen3-hf-bf16"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& c : s) if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return s;
                         });

std::vector<std::vector<float>> decode(Model& m, std::span<const Token> tokens) {
  std::vector<std::vector<float>> out;
  for (Token t : tokens) {
    m.prefill(std::span(&t, 1));
    out.emplace_back(m.logits().begin(), m.logits().end());
  }
  return out;
}

TEST(StateSnapshot, RestoreContinuesBitIdentically) {
  const Reference ref = Reference::load(tiny_model_dir("moe-hf-bf16-sharded"));
  auto model = load("moe-hf-bf16-sharded");
  const std::span<const Token> prompt(ref.prompt);
  model->prefill(prompt.first(100));
  auto snap = model->save_state();
  EXPECT_EQ(snap->position(), 100);
  EXPECT_GT(snap->host_bytes(), 0u);
  const std::vector<float> at_save(model->logits().begin(), model->logits().end());
  const auto first = decode(*model, prompt.subspan(100, 20));

  // Diverge, then come back.
  model->reset();
  model->prefill(prompt.subspan(50, 30));
  model->restore_state(*snap);
  EXPECT_EQ(model->position(), 100);
  EXPECT_EQ(std::vector<float>(model->logits().begin(), model->logits().end()), at_save);
  EXPECT_EQ(decode(*model, prompt.subspan(100, 20)), first);
}

TEST(StateSnapshot, SerializedSnapshotRestoresBitIdentically) {
  const Reference ref = Reference::load(tiny_model_dir("dense-hf-bf16"));
  auto model = load("dense-hf-bf16");
  model->prefill(std::span(ref.prompt).first(70));
  auto snap = model->save_state();
  std::stringstream bytes;
  model->serialize_state(*snap, bytes);
  const auto expected = decode(*model, std::span(ref.prompt).subspan(70, 10));
  model->reset();
  auto back = model->deserialize_state(bytes);
  model->restore_state(*back);
  EXPECT_EQ(decode(*model, std::span(ref.prompt).subspan(70, 10)), expected);
}

TEST(StateSnapshot, SnapshotOfAnotherModelIsRejected) {
  auto a = load("dense-hf-bf16"), b = load("dense-hf-bf16");
  const Token t = 3;
  a->prefill(std::span(&t, 1));
  auto snap = a->save_state();
  EXPECT_THROW(b->restore_state(*snap), Error);
  std::stringstream garbage("not a snapshot at all");
  EXPECT_THROW(b->deserialize_state(garbage), Error);
}

TEST(ModelLimits, PrefillPastMaxContextIsRejectedWithoutChangingState) {
  auto model = load("dense-hf-bf16", 16);
  std::vector<Token> tokens(10, 7);
  model->prefill(tokens);
  try {
    model->prefill(tokens);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::prompt_too_long);
  }
  EXPECT_EQ(model->position(), 10);
}

TEST(ModelLimits, TokenOutsideTheVocabularyIsRejectedWithoutChangingState) {
  auto model = load("dense-hf-bf16");
  std::vector<Token> tokens = {1, 2, 512};
  EXPECT_THROW(model->prefill(tokens), Error);
  EXPECT_EQ(model->position(), 0);
  std::vector<Token> negative = {-1};
  EXPECT_THROW(model->prefill(negative), Error);
  EXPECT_THROW(model->prefill({}), Error);
}

}  // namespace
}  // namespace hearth::engine
