// A model whose embedding is padded past the tokenizer's vocabulary (as real checkpoints are, to a
// multiple of 64 or 256) must never make a reply sample an id the tokenizer lacks: the padded ids would
// reach the output parser and end the stream with "token id ... is outside the vocabulary".
#include <gtest/gtest.h>

#include <algorithm>

#include "serve/completion.h"
#include "chat/scripted_responder.h"
#include "engine/loader.h"
#include "../chat/tokenizer_test_util.h"

namespace hearth::chat {
using serve::Completion;
using serve::CompletionSettings;
namespace {

using engine::Token;

// Wraps the scripted model and widens its logits by `padding` ids that always hold the largest logit,
// the worst case for a sampler that looks at the whole table.
class PaddedModel : public engine::Model {
 public:
  PaddedModel(std::unique_ptr<engine::Model> inner, int64_t padding) : inner_(std::move(inner)), info_(inner_->info()) {
    info_.vocab_size += padding;
  }
  const engine::ModelInfo& info() const override { return info_; }
  void reset_slot(engine::SlotId slot) override { inner_->reset_slot(slot); }
  void forward(std::span<const engine::SlotTokens> batch) override { inner_->forward(batch); }
  std::span<const float> slot_logits(engine::SlotId slot) const override {
    const std::span<const float> real = inner_->slot_logits(slot);
    logits_.assign(real.begin(), real.end());
    logits_.resize(size_t(info_.vocab_size), *std::max_element(real.begin(), real.end()) + 100.0f);
    return logits_;
  }
  int64_t slot_position(engine::SlotId slot) const override { return inner_->slot_position(slot); }
  std::unique_ptr<engine::StateSnapshot> save_slot(engine::SlotId slot) const override { return inner_->save_slot(slot); }
  void restore_slot(engine::SlotId slot, const engine::StateSnapshot& snapshot) override { inner_->restore_slot(slot, snapshot); }

 private:
  std::unique_ptr<engine::Model> inner_;
  engine::ModelInfo info_;
  mutable std::vector<float> logits_;
};

std::shared_ptr<const Tokenizer> qwen_tokenizer() {
  static auto t = Tokenizer::load(HEARTH_TEST_TOKENIZER_DIR);
  return t;
}

api::MessagesRequest ask(const std::string& text) {
  api::MessagesRequest r;
  r.model = "m";
  r.max_tokens = 64;
  api::ContentBlock block;
  block.text = text;
  r.messages.push_back({api::Role::user, {block}});
  return r;
}

std::string reply_text(Completion& completion, const api::MessagesRequest& request) {
  auto prepared = completion.prepare(request);
  std::string text;
  api::GenerationHooks hooks;
  hooks.on_event = [&](const ContentEvent& e) {
    if (e.type == EventType::block_delta && e.kind == BlockKind::text) text += e.text;
    return true;
  };
  completion.generate(*prepared, hooks);
  return text;
}

TEST(PaddedVocabulary, ReplyComesFromRealTokensAtAnyTemperature) {
  const auto tokenizer = qwen_tokenizer();
  const Script script = parse_script(R"({"rules":[{"otherwise":true,"respond":"Only real tokens here."}]})", "test");
  for (float temperature : {0.0f, 0.6f}) {
    CompletionSettings settings;
    settings.max_context = 4096;
    settings.enable_thinking = false;
    settings.sampling.temperature = temperature;
    settings.sampling.top_k = 0;
    settings.sampling.top_p = 1.0f;
    Completion completion(tokenizer,
                          std::make_unique<PaddedModel>(make_scripted_model(tokenizer, script, 4096), /*padding=*/256),
                          settings);
    EXPECT_EQ(reply_text(completion, ask("hi")), "Only real tokens here.") << "temperature " << temperature;
  }
}

// The reported case on the real CPU engine: a tiny Qwen3.5 model with random weights whose embedding
// (512 rows) is far larger than its tokenizer (the 256 byte tokens, a few merges and the chat specials),
// so that roughly half of what it would sample lies past the tokenizer.
TEST(PaddedVocabulary, TinyModelWithASmallerTokenizerRepliesWithoutLeavingTheVocabulary) {
  testing::MiniTokenizer mini({{"h", "i"}, {"t", "h"}, {"th", "e"}});
  for (const char* special : {"<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>", "<tool_call>",
                              "</tool_call>", "<tool_response>", "</tool_response>"}) {
    mini.add_token(special);
  }
  std::shared_ptr<const Tokenizer> tokenizer = Tokenizer::load(mini.write());
  engine::LoadOptions load;
  load.model_dir = std::string(HEARTH_TESTDATA_DIR) + "/tiny/dense-hf-bf16";
  load.max_context = 1024;
  load.threads = 1;
  auto model = engine::load_model(load);
  ASSERT_GT(model->info().vocab_size, tokenizer->vocab_size() + 200);

  CompletionSettings settings;
  settings.enable_thinking = false;
  settings.sampling.temperature = 1.0f;  // the whole (real) vocabulary is in play
  settings.sampling.top_k = 0;
  settings.sampling.top_p = 1.0f;
  Completion completion(tokenizer, std::move(model), settings);
  api::MessagesRequest request = ask("hi");
  request.max_tokens = 300;
  auto prepared = completion.prepare(request);
  api::GenerationHooks hooks;
  const api::GenerationOutcome outcome = completion.generate(*prepared, hooks);
  EXPECT_GT(outcome.usage.output_tokens, 0);
}

}  // namespace
}  // namespace hearth::chat
