// Renderer behaviour beyond byte equality: format choice from model_type, message boundaries, where
// generation starts, and errors for conversations a format cannot express.
#include <gtest/gtest.h>

#include "render_test_util.h"
#include "util/error.h"

namespace hearth::chat {
namespace {

using testing::render_json;

TEST(ChatFormatForModelType, MapsQwenModelTypesToTheirFormat) {
  EXPECT_EQ(chat_format_for_model_type("qwen3_5"), ChatFormat::qwen3_5);
  EXPECT_EQ(chat_format_for_model_type("qwen3_5_moe"), ChatFormat::qwen3_5);
  EXPECT_EQ(chat_format_for_model_type("qwen3"), ChatFormat::qwen3);
  EXPECT_EQ(chat_format_for_model_type("qwen3_moe"), ChatFormat::qwen3);
}

TEST(ChatFormatForModelType, RejectsOtherModelTypesNamingTheSupportedOnes) {
  try {
    chat_format_for_model_type("llama");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::unsupported);
    EXPECT_NE(std::string(e.what()).find("qwen3_5_moe"), std::string::npos) << e.what();
  }
}

constexpr std::string_view kToolConversation = R"({"system": "S", "tools": [{"name": "f", "input_schema": {}}],
  "messages": [{"role": "user", "content": "q"},
               {"role": "assistant", "content": [{"type": "tool_use", "id": "a", "name": "f", "input": {}},
                                                 {"type": "tool_use", "id": "b", "name": "f", "input": {}}]},
               {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "a", "content": "1"},
                                            {"type": "tool_result", "tool_use_id": "b", "content": "2"}]}]})";

TEST(RenderedPromptBoundaries, FollowThePrefixAndEveryTurnWithMergedToolResultsAsOneTurn) {
  for (ChatFormat format : {ChatFormat::qwen3_5, ChatFormat::qwen3}) {
    const RenderedPrompt p = render_json(format, kToolConversation);
    // tools+system prefix, user, assistant, one merged tool-result turn.
    ASSERT_EQ(p.boundaries.size(), 4u) << p.text;
    for (size_t b : p.boundaries) EXPECT_TRUE(p.text.substr(0, b).ends_with("<|im_end|>\n"));
    EXPECT_TRUE(p.text.substr(0, p.boundaries[1]).ends_with("q<|im_end|>\n"));
    EXPECT_TRUE(p.text.substr(0, p.boundaries[3]).ends_with("2\n</tool_response><|im_end|>\n"));
    EXPECT_EQ(p.text.substr(p.boundaries[3]).substr(0, 22), "<|im_start|>assistant\n");
  }
}

TEST(RenderedPromptBoundaries, AreEmptyBeforeTheFirstTurnWithoutSystemOrTools) {
  const RenderedPrompt p = render_json(ChatFormat::qwen3_5, R"({"messages": [{"role": "user", "content": "q"}]})");
  ASSERT_EQ(p.boundaries.size(), 1u);
  EXPECT_EQ(p.boundaries[0], std::string("<|im_start|>user\nq<|im_end|>\n").size());
}

TEST(GenerationPrompt, Qwen35StartsInsideThinkOnlyWhenThinkingIsOn) {
  constexpr std::string_view req = R"({"messages": [{"role": "user", "content": "q"}]})";
  RenderOptions on;
  RenderOptions off;
  off.enable_thinking = false;
  RenderOptions none;
  none.add_generation_prompt = false;
  const auto p_on = render_json(ChatFormat::qwen3_5, req, on);
  const auto p_off = render_json(ChatFormat::qwen3_5, req, off);
  const auto p_none = render_json(ChatFormat::qwen3_5, req, none);
  EXPECT_TRUE(p_on.generation_starts_in_thinking);
  EXPECT_TRUE(p_on.text.ends_with("<|im_start|>assistant\n<think>\n"));
  EXPECT_FALSE(p_off.generation_starts_in_thinking);
  EXPECT_TRUE(p_off.text.ends_with("<|im_start|>assistant\n<think>\n\n</think>\n\n"));
  EXPECT_FALSE(p_none.generation_starts_in_thinking);
  EXPECT_TRUE(p_none.text.ends_with("q<|im_end|>\n"));
}

TEST(GenerationPrompt, Qwen3LeavesOpeningThinkToTheModel) {
  const auto p = render_json(ChatFormat::qwen3, R"({"messages": [{"role": "user", "content": "q"}]})");
  EXPECT_FALSE(p.generation_starts_in_thinking);
  EXPECT_TRUE(p.text.ends_with("<|im_start|>assistant\n"));
}

constexpr std::string_view kTwoQueries = R"({"messages": [
  {"role": "user", "content": "q1"},
  {"role": "assistant", "content": [{"type": "thinking", "thinking": "r1", "signature": "s"}, {"type": "text", "text": "a1"}]},
  {"role": "user", "content": "q2"}]})";

TEST(PastReasoning, Qwen35DropsReasoningBeforeTheLastQueryAndQwen36PreserveThinkingKeepsIt) {
  const auto dropped = render_json(ChatFormat::qwen3_5, kTwoQueries).text;
  EXPECT_NE(dropped.find("<|im_start|>assistant\na1<|im_end|>"), std::string::npos) << dropped;
  RenderOptions preserve;
  preserve.preserve_thinking = true;
  const auto kept = render_json(ChatFormat::qwen3_5, kTwoQueries, preserve).text;
  EXPECT_NE(kept.find("<|im_start|>assistant\n<think>\nr1\n</think>\n\na1<|im_end|>"), std::string::npos) << kept;
}

TEST(ConversationErrors, NoMessagesIsAnInvalidRequest) {
  for (ChatFormat format : {ChatFormat::qwen3_5, ChatFormat::qwen3}) {
    try {
      render_json(format, R"({"messages": []})");
      FAIL() << "expected an error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::invalid_request);
    }
  }
}

TEST(ConversationErrors, Qwen35NeedsAUserQueryButQwen3DoesNot) {
  constexpr std::string_view only_results = R"({"messages": [{"role": "user", "content": [
      {"type": "tool_result", "tool_use_id": "a", "content": "r"}]}]})";
  try {
    render_json(ChatFormat::qwen3_5, only_results);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_request);
    EXPECT_NE(std::string(e.what()).find("No user query"), std::string::npos) << e.what();
  }
  EXPECT_EQ(render_json(ChatFormat::qwen3, only_results).text,
            "<|im_start|>user\n<tool_response>\nr\n</tool_response><|im_end|>\n<|im_start|>assistant\n");
}

}  // namespace
}  // namespace hearth::chat
