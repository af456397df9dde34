// Token-level checks of the rendered prompts (the prompt cache works on token ids): every message
// boundary is a token boundary, and the append-only property of the recorded Claude Code session holds
// for token ids as it does for text. Uses the test tokenizer (Qwen3's vocabulary; the BPE algorithm and
// the special tokens around boundaries are the same as Qwen3.5's).
#include <gtest/gtest.h>

#include "chat/tokenizer.h"
#include "render_test_util.h"

namespace hearth::chat {
namespace {

const Tokenizer& tokenizer() {
  static const auto t = Tokenizer::load(HEARTH_TEST_TOKENIZER_DIR);
  return *t;
}

bool is_prefix(const std::vector<Token>& prefix, const std::vector<Token>& of) {
  return prefix.size() <= of.size() && std::equal(prefix.begin(), prefix.end(), of.begin());
}

std::vector<RenderedPrompt> session_prompts(RenderOptions options) {
  std::vector<RenderedPrompt> out;
  for (const auto& request : testing::read_jsonl(testing::testdata("chat/claude_session.jsonl"))) {
    out.push_back(testing::render_parsed(ChatFormat::qwen3_5, request, options));
  }
  return out;
}

TEST(RenderedPromptTokens, EveryMessageBoundaryIsATokenBoundary) {
  for (const auto& p : session_prompts({})) {
    const auto all = tokenizer().encode(p.text);
    for (size_t b : p.boundaries) {
      EXPECT_TRUE(is_prefix(tokenizer().encode(std::string_view(p.text).substr(0, b)), all)) << "boundary " << b;
    }
  }
}

TEST(RenderedPromptTokens, Qwen36PreserveThinkingSessionIsAppendOnlyInTokenIds) {
  RenderOptions preserve;
  preserve.preserve_thinking = true;
  const auto prompts = session_prompts(preserve);
  for (size_t n = 0; n + 1 < prompts.size(); ++n) {
    const auto before = tokenizer().encode(std::string_view(prompts[n].text).substr(0, prompts[n].boundaries.back()));
    EXPECT_TRUE(is_prefix(before, tokenizer().encode(prompts[n + 1].text))) << "request " << n + 1;
  }
}

}  // namespace
}  // namespace hearth::chat
