// One test per rule of the Anthropic → chat-template mapping (src/chat/anthropic_mapping.h), through the
// mapping itself and through the rendered prompt.
#include <functional>

#include <gtest/gtest.h>

#include "chat/anthropic_mapping.h"
#include "render_test_util.h"
#include "util/error.h"

namespace hearth::chat {
namespace {

using api::Json;
using testing::render_json;

ChatConversation map_json(std::string_view request) {
  return map_anthropic_request(request_for_render_from_json(Json::parse(request)));
}

std::string render35(std::string_view request, RenderOptions options = {}) {
  return render_json(ChatFormat::qwen3_5, request, options).text;
}

std::string render3(std::string_view request, RenderOptions options = {}) {
  return render_json(ChatFormat::qwen3, request, options).text;
}

ErrorKind error_kind_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.kind();
  }
  return ErrorKind::internal;
}

TEST(RenderMapping, ToolsBecomeOpenAiFunctionObjectsInRequestOrderIncludingDeferredOnes) {
  const auto conv = map_json(R"({"tools": [
      {"name": "b_tool", "description": "B", "input_schema": {"type": "object", "properties": {"z": {}, "a": {}}}},
      {"name": "a_tool", "input_schema": {"type": "object"}, "defer_loading": true,
       "cache_control": {"type": "ephemeral"}}],
    "messages": [{"role": "user", "content": "hi"}]})");
  ASSERT_EQ(conv.tools.size(), 2u);
  EXPECT_EQ(conv.tools[0].dump(),
            R"({"type":"function","function":{"name":"b_tool","description":"B","parameters":{"type":"object","properties":{"z":{},"a":{}}}}})");
  // No description key when the tool has none.
  EXPECT_EQ(conv.tools[1].dump(), R"({"type":"function","function":{"name":"a_tool","parameters":{"type":"object"}}})");
}

TEST(RenderMapping, ToolChoiceDoesNotChangeThePrompt) {
  const std::string base = R"({"tools": [{"name": "t", "input_schema": {}}], "messages": [{"role": "user", "content": "hi"}])";
  EXPECT_EQ(render35(base + "}"), render35(base + R"(, "tool_choice": {"type": "any"}})"));
}

TEST(RenderMapping, SystemBlocksAreConcatenatedWithoutSeparator) {
  const auto conv = map_json(R"({"system": [{"type": "text", "text": "One."}, {"type": "text", "text": "\nTwo."}],
                                 "messages": [{"role": "user", "content": "hi"}]})");
  ASSERT_EQ(conv.messages.size(), 2u);
  EXPECT_EQ(conv.messages[0].role, ChatRole::system);
  EXPECT_EQ(conv.messages[0].content, "One.\nTwo.");
}

TEST(RenderMapping, BillingHeaderBlockIsRemovedSoItsChangingValueNeverChangesThePrompt) {
  const auto with_header = [](std::string_view header) {
    return render35(std::string(R"({"system": [{"type": "text", "text": ")") + std::string(header) +
                    R"("}, {"type": "text", "text": "Be brief."}], "messages": [{"role": "user", "content": "hi"}]})");
  };
  const std::string a = with_header("x-anthropic-billing-header: cc_version=2.1.332.ea8; cc_entrypoint=sdk-cli;");
  const std::string b = with_header("x-anthropic-billing-header: cc_version=2.1.332.0f1; cch=9c0de; cc_entrypoint=sdk-cli;");
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.find("billing"), std::string::npos);
  EXPECT_EQ(a, render35(R"({"system": "Be brief.", "messages": [{"role": "user", "content": "hi"}]})"));
}

TEST(RenderMapping, EmptySystemPromptGivesNoSystemTurn) {
  const std::string none = render35(R"({"messages": [{"role": "user", "content": "hi"}]})");
  EXPECT_EQ(none, "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n");
  EXPECT_EQ(render35(R"({"system": "", "messages": [{"role": "user", "content": "hi"}]})"), none);
  EXPECT_EQ(render35(R"({"system": [{"type": "text", "text": "x-anthropic-billing-header: a"}],
                         "messages": [{"role": "user", "content": "hi"}]})"), none);
}

TEST(RenderMapping, SystemMessageInsideTheConversationRendersInPlace) {
  const std::string request = R"({"system": "Top.", "messages": [
      {"role": "user", "content": "hi"},
      {"role": "system", "content": [{"type": "text", "text": "# Environment", "cache_control": {"type": "ephemeral"}}]},
      {"role": "assistant", "content": "hello"}, {"role": "user", "content": "bye"}]})";
  const std::string expected =
      "<|im_start|>system\nTop.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n"
      "<|im_start|>system\n# Environment<|im_end|>\n<|im_start|>assistant\nhello<|im_end|>\n"
      "<|im_start|>user\nbye<|im_end|>\n<|im_start|>assistant\n<think>\n";
  EXPECT_EQ(render35(request), expected);
  // Qwen3's template renders it in place by itself; the same mapping gives the same place there.
  EXPECT_NE(render3(request).find("<|im_start|>user\nhi<|im_end|>\n<|im_start|>system\n# Environment<|im_end|>\n"),
            std::string::npos);
}

TEST(RenderMapping, ToolResultsBecomeToolMessagesMergedIntoOneUserTurnInOrder) {
  const std::string request = R"({"messages": [
      {"role": "user", "content": "go"},
      {"role": "assistant", "content": [{"type": "tool_use", "id": "a", "name": "f", "input": {}},
                                        {"type": "tool_use", "id": "b", "name": "f", "input": {}}]},
      {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "a", "content": "one"},
                                   {"type": "tool_result", "tool_use_id": "b",
                                    "content": [{"type": "text", "text": "tw"}, {"type": "text", "text": "o"}]}]}]})";
  const auto conv = map_json(request);
  ASSERT_EQ(conv.messages.size(), 4u);
  EXPECT_EQ(conv.messages[2].role, ChatRole::tool);
  EXPECT_EQ(conv.messages[3].content, "two");
  EXPECT_TRUE(render35(request).ends_with(
      "<|im_start|>user\n<tool_response>\none\n</tool_response>\n<tool_response>\ntwo\n</tool_response><|im_end|>\n"
      "<|im_start|>assistant\n<think>\n"));
}

TEST(RenderMapping, ToolResultErrorIsShownToTheModelWithAnErrorLine) {
  const auto conv = map_json(R"({"messages": [{"role": "user", "content": "go"},
      {"role": "assistant", "content": [{"type": "tool_use", "id": "a", "name": "f", "input": {}}]},
      {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "a", "content": "boom", "is_error": true}]}]})");
  EXPECT_EQ(conv.messages.back().content, std::string(kToolErrorPrefix) + "boom");
  EXPECT_EQ(conv.messages.back().content, "Error:\nboom");
}

TEST(RenderMapping, UserTextNextToToolResultsFollowsAsItsOwnUserTurn) {
  const auto conv = map_json(R"({"messages": [{"role": "user", "content": "go"},
      {"role": "assistant", "content": [{"type": "tool_use", "id": "a", "name": "f", "input": {}}]},
      {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "a", "content": "r"},
                                   {"type": "text", "text": "note "}, {"type": "text", "text": "two"}]}]})");
  ASSERT_EQ(conv.messages.size(), 4u);
  EXPECT_EQ(conv.messages[2].role, ChatRole::tool);
  EXPECT_EQ(conv.messages[3].role, ChatRole::user);
  EXPECT_EQ(conv.messages[3].content, "note two");
}

TEST(RenderMapping, ThinkingBlocksBecomeTheTurnsReasoningAndRedactedThinkingIsDropped) {
  const auto conv = map_json(R"({"messages": [{"role": "user", "content": "q"},
      {"role": "assistant", "content": [{"type": "redacted_thinking", "data": "SECRET"},
                                        {"type": "thinking", "thinking": "a ", "signature": "s"},
                                        {"type": "thinking", "thinking": "b", "signature": "s"},
                                        {"type": "text", "text": "answer"}]}]})");
  const auto& turn = conv.messages.back();
  EXPECT_EQ(turn.reasoning, "a b");
  EXPECT_EQ(turn.content, "answer");
  const std::string text = render35(R"({"messages": [{"role": "user", "content": "q"},
      {"role": "assistant", "content": [{"type": "redacted_thinking", "data": "SECRET"},
                                        {"type": "thinking", "thinking": "because", "signature": "s"},
                                        {"type": "text", "text": "answer"}]}]})");
  EXPECT_NE(text.find("<|im_start|>assistant\n<think>\nbecause\n</think>\n\nanswer<|im_end|>"), std::string::npos);
  EXPECT_EQ(text.find("SECRET"), std::string::npos);
}

TEST(RenderMapping, ImagesAndDocumentsBecomeClearPlaceholdersAlsoInsideToolResults) {
  EXPECT_EQ(media_placeholder(api::BlockType::image, "image/png"), "[image: image/png — this model cannot see images]");
  EXPECT_EQ(media_placeholder(api::BlockType::image, ""), "[image — this model cannot see images]");
  EXPECT_EQ(media_placeholder(api::BlockType::document, "application/pdf"),
            "[document: application/pdf — this model cannot read documents]");
  const auto conv = map_json(R"({"messages": [
      {"role": "user", "content": [{"type": "text", "text": "see "},
                                   {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "x"}}]},
      {"role": "assistant", "content": [{"type": "tool_use", "id": "a", "name": "Read", "input": {}}]},
      {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "a",
          "content": [{"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "x"}}]}]}]})");
  EXPECT_EQ(conv.messages[0].content, "see [image: image/png — this model cannot see images]");
  EXPECT_EQ(conv.messages[2].content, "[image: image/jpeg — this model cannot see images]");
}

TEST(RenderMapping, StringContentAndTextBlocksWithTheSameTextRenderIdentically) {
  const std::string as_string = R"({"system": "S", "messages": [{"role": "user", "content": "hello"},
      {"role": "system", "content": "env"}, {"role": "assistant", "content": "hi"}, {"role": "user", "content": "more"}]})";
  const std::string as_blocks = R"({"system": [{"type": "text", "text": "S"}], "messages": [
      {"role": "user", "content": [{"type": "text", "text": "hello", "cache_control": {"type": "ephemeral"}}]},
      {"role": "system", "content": [{"type": "text", "text": "env"}]},
      {"role": "assistant", "content": [{"type": "text", "text": "hi"}]},
      {"role": "user", "content": [{"type": "text", "text": "mo"}, {"type": "text", "text": "re"}]}]})";
  EXPECT_EQ(render35(as_string), render35(as_blocks));
  EXPECT_EQ(render3(as_string), render3(as_blocks));
}

TEST(RenderMapping, CacheControlMarkersDoNotChangeThePrompt) {
  const std::string plain = R"({"system": [{"type": "text", "text": "S"}],
      "tools": [{"name": "t", "input_schema": {}}],
      "messages": [{"role": "user", "content": [{"type": "text", "text": "q"}]},
                   {"role": "assistant", "content": [{"type": "tool_use", "id": "a", "name": "t", "input": {}}]},
                   {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "a", "content": "r"}]}]})";
  const std::string marked = R"({"system": [{"type": "text", "text": "S", "cache_control": {"type": "ephemeral"}}],
      "tools": [{"name": "t", "input_schema": {}, "cache_control": {"type": "ephemeral"}}],
      "messages": [{"role": "user", "content": [{"type": "text", "text": "q", "cache_control": {"type": "ephemeral"}}]},
                   {"role": "assistant", "content": [{"type": "tool_use", "id": "a", "name": "t", "input": {},
                                                      "cache_control": {"type": "ephemeral"}}]},
                   {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "a", "content": "r",
                                                 "cache_control": {"type": "ephemeral", "ttl": "1h"}}]}]})";
  EXPECT_EQ(render35(plain), render35(marked));
}

TEST(RenderMapping, ConsecutiveMessagesOfOneRoleStaySeparateTurns) {
  EXPECT_EQ(render35(R"({"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]})"),
            "<|im_start|>user\na<|im_end|>\n<|im_start|>user\nb<|im_end|>\n<|im_start|>assistant\n<think>\n");
}

TEST(RenderMapping, AssistantTextAfterAToolCallMovesBeforeTheCalls) {
  const auto conv = map_json(R"({"messages": [{"role": "user", "content": "q"},
      {"role": "assistant", "content": [{"type": "text", "text": "A"},
                                        {"type": "tool_use", "id": "a", "name": "f", "input": {"x": 1}},
                                        {"type": "text", "text": "B"}]}]})");
  EXPECT_EQ(conv.messages.back().content, "AB");
  ASSERT_EQ(conv.messages.back().tool_calls.size(), 1u);
  EXPECT_EQ(conv.messages.back().tool_calls[0].arguments.dump(), R"({"x":1})");
}

TEST(RenderMapping, ReasoningIsAlwaysPassedSoALiteralThinkTagInTextIsNotSplit) {
  const std::string text = render35(R"({"messages": [{"role": "user", "content": "q"},
      {"role": "assistant", "content": "x <think>y</think> z"}]})");
  EXPECT_NE(text.find("<think>\n\n</think>\n\nx <think>y</think> z<|im_end|>"), std::string::npos);
}

TEST(RenderMapping, MisplacedBlocksAndNonObjectToolInputsAreInvalidRequests) {
  EXPECT_EQ(error_kind_of([] { map_json(R"({"messages": [{"role": "user", "content": [
      {"type": "tool_use", "id": "a", "name": "f", "input": {}}]}]})"); }), ErrorKind::invalid_request);
  EXPECT_EQ(error_kind_of([] { map_json(R"({"messages": [{"role": "assistant", "content": [
      {"type": "tool_result", "tool_use_id": "a", "content": "x"}]}]})"); }), ErrorKind::invalid_request);
  EXPECT_EQ(error_kind_of([] { map_json(R"({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": [
      {"type": "tool_use", "id": "a", "name": "f", "input": [1, 2]}]}]})"); }), ErrorKind::invalid_request);
}

TEST(RenderRequestJson, BadShapesAreInvalidRequestsNamingThePath) {
  try {
    request_for_render_from_json(Json::parse(R"({"messages": [{"role": "user", "content": [{"type": "text"}]}]})"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_request);
    EXPECT_NE(std::string(e.what()).find("messages[0].content[0]"), std::string::npos) << e.what();
  }
  EXPECT_EQ(error_kind_of([] { request_for_render_from_json(Json::parse(R"({"messages": 3})")); }),
            ErrorKind::invalid_request);
  EXPECT_EQ(error_kind_of([] { request_for_render_from_json(Json::parse(R"({"messages": [{"role": "robot", "content": ""}]})")); }),
            ErrorKind::invalid_request);
  EXPECT_EQ(error_kind_of([] { request_for_render_from_json(Json::parse(R"({"messages": [{"role": "user", "content": [
      {"type": "server_tool_use"}]}]})")); }), ErrorKind::invalid_request);
  EXPECT_EQ(error_kind_of([] { request_for_render_from_json(Json::parse(R"([1])")); }), ErrorKind::invalid_request);
}

TEST(RenderRequestJson, UnknownTopLevelKeysAreIgnored) {
  EXPECT_NO_THROW(request_for_render_from_json(Json::parse(R"({"messages": [], "context_management": {"edits": []},
      "output_config": {"effort": "high"}, "thinking": {"type": "adaptive", "display": "updates"}})")));
}

}  // namespace
}  // namespace hearth::chat
