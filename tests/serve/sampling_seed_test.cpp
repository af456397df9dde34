// A request's `seed` (OpenAI's field) fixes its samples: the same seed twice gives the same reply from a
// tiny random-weight model at temperature 1, and another seed a different one.
#include <gtest/gtest.h>

#include "engine/loader.h"
#include "serve/completion.h"
#include "../chat/tokenizer_test_util.h"

namespace hearth::serve {
namespace {

std::string sampled_reply(std::optional<uint64_t> seed) {
  chat::testing::MiniTokenizer mini({{"h", "i"}, {"t", "h"}, {"th", "e"}});
  for (const char* special : {"<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>", "<tool_call>",
                              "</tool_call>", "<tool_response>", "</tool_response>"}) {
    mini.add_token(special);
  }
  engine::LoadOptions load;
  load.model_dir = std::string(HEARTH_TESTDATA_DIR) + "/tiny/dense-hf-bf16";
  load.max_context = 1024;
  load.threads = 1;
  CompletionSettings settings;
  settings.enable_thinking = false;
  settings.sampling.temperature = 1.0f;
  settings.sampling.top_k = 0;
  settings.sampling.top_p = 1.0f;
  Completion completion(chat::Tokenizer::load(mini.write()), engine::load_model(load), settings);

  api::MessagesRequest request;
  request.model = "m";
  request.max_tokens = 40;
  request.seed = seed;
  api::ContentBlock block;
  block.text = "hi";
  request.messages.push_back({api::Role::user, {block}});
  auto prepared = completion.prepare(request);
  std::string reply;
  api::GenerationHooks hooks;
  hooks.on_event = [&](const ContentEvent& e) {
    reply += e.text + "|";  // every event, so that block structure counts too
    return true;
  };
  completion.generate(*prepared, hooks);
  return reply;
}

TEST(SamplingSeed, SameSeedSameReplyOtherSeedAnother) {
  const std::string first = sampled_reply(1234);
  EXPECT_FALSE(first.empty());
  EXPECT_EQ(sampled_reply(1234), first);
  EXPECT_NE(sampled_reply(98765), first);
}

}  // namespace
}  // namespace hearth::serve
