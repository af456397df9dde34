// Request parsing and validation: what Claude Code sends is accepted; each malformed field is a 400
// invalid_request_error naming the field.
#include <gtest/gtest.h>

#include "api/errors.h"
#include "api/request_parser.h"

namespace hearth::api {
namespace {

Json minimal() {
  return Json::parse(R"({"model":"m","max_tokens":16,"messages":[{"role":"user","content":"hi"}]})");
}

MessagesRequest parse(const Json& j, RequestKind kind = RequestKind::messages) {
  return parse_messages_request(j.dump(), kind);
}

// The 400 message for `body`, or "" if it parsed.
std::string error_of_text(std::string_view body, RequestKind kind = RequestKind::messages) {
  try {
    parse_messages_request(body, kind);
  } catch (const ApiError& e) {
    EXPECT_EQ(e.type(), ErrorType::invalid_request_error);
    EXPECT_EQ(e.status(), 400);
    return e.what();
  }
  return "";
}

std::string error_of(const Json& j, RequestKind kind = RequestKind::messages) { return error_of_text(j.dump(), kind); }

TEST(RequestParser, MinimalRequest) {
  MessagesRequest r = parse(minimal());
  EXPECT_EQ(r.model, "m");
  EXPECT_EQ(r.max_tokens, 16);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].role, Role::user);
  ASSERT_EQ(r.messages[0].content.size(), 1u);
  EXPECT_EQ(r.messages[0].content[0].text, "hi");
  EXPECT_FALSE(r.stream);
}

TEST(RequestParser, AcceptsWhatClaudeCodeSends) {
  Json j = Json::parse(R"({
    "model": "claude-sonnet-4-5", "max_tokens": 32000, "stream": true,
    "system": [{"type":"text","text":"x-anthropic-billing-header: cc_version=2.1.332.ea8;"},
               {"type":"text","text":"You are Claude Code.","cache_control":{"type":"ephemeral"}}],
    "messages": [
      {"role":"user","content":[{"type":"text","text":"list files","cache_control":{"type":"ephemeral"}}]},
      {"role":"system","content":"# Environment\ncwd: /tmp"},
      {"role":"assistant","content":[
        {"type":"thinking","thinking":"use ls","signature":"sig"},
        {"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"ls"}}]},
      {"role":"user","content":[
        {"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"a.txt"}],"is_error":false},
        {"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}}]}
    ],
    "tools": [{"name":"Bash","description":"run","input_schema":{"type":"object","properties":{"command":{"type":"string"}}}},
              {"name":"Later","input_schema":{"type":"object"},"defer_loading":true}],
    "metadata": {"user_id":"u1"},
    "thinking": {"type":"adaptive","display":"updates"},
    "output_config": {"effort":"high"},
    "context_management": {"edits":[{"type":"clear_thinking_20251015","keep":"all"}]},
    "some_future_field": [1,2,3]
  })");
  MessagesRequest r = parse(j);
  EXPECT_TRUE(r.stream);
  EXPECT_EQ(r.system.size(), 2u);
  ASSERT_EQ(r.messages.size(), 4u);
  EXPECT_EQ(r.messages[1].role, Role::system);
  EXPECT_EQ(r.messages[2].content[0].type, BlockType::thinking);
  EXPECT_EQ(r.messages[2].content[0].signature, "sig");
  EXPECT_EQ(r.messages[2].content[1].input["command"], "ls");
  EXPECT_EQ(r.messages[3].content[0].type, BlockType::tool_result);
  EXPECT_EQ(r.messages[3].content[0].content[0].text, "a.txt");
  EXPECT_EQ(r.messages[3].content[1].media_type, "image/png");
  EXPECT_EQ(r.tools.size(), 2u);
  EXPECT_TRUE(r.tools[1].defer_loading);
  EXPECT_EQ(r.thinking.mode, ThinkingMode::adaptive);
  EXPECT_EQ(r.metadata_user_id, "u1");
}

TEST(RequestParser, ToolInputAndSchemaKeepKeyOrder) {
  Json j = minimal();
  j["tools"] = Json::parse(R"([{"name":"t","input_schema":{"type":"object","properties":{"z":{},"a":{}}}}])");
  MessagesRequest r = parse(j);
  EXPECT_EQ(r.tools[0].input_schema["properties"].begin().key(), "z");
}

TEST(RequestParser, NamesMissingRequiredFields) {
  Json j = minimal();
  j.erase("model");
  EXPECT_EQ(error_of(j), "model: field required");
  j = minimal();
  j.erase("max_tokens");
  EXPECT_EQ(error_of(j), "max_tokens: field required");
  j = minimal();
  j.erase("messages");
  EXPECT_EQ(error_of(j), "messages: field required");
  j = minimal();
  j["messages"][0].erase("role");
  EXPECT_EQ(error_of(j), "messages.0.role: field required");
}

TEST(RequestParser, CountTokensNeedsNoMaxTokens) {
  Json j = minimal();
  j.erase("max_tokens");
  EXPECT_NO_THROW(parse(j, RequestKind::count_tokens));
}

TEST(RequestParser, NamesWrongTypes) {
  Json j = minimal();
  j["max_tokens"] = "16";
  EXPECT_EQ(error_of(j), "max_tokens: expected an integer, got a string");
  j = minimal();
  j["stream"] = 1;
  EXPECT_EQ(error_of(j), "stream: expected a boolean, got a number");
  j = minimal();
  j["messages"] = Json::object();
  EXPECT_EQ(error_of(j), "messages: expected an array, got an object");
  j = minimal();
  j["messages"][0]["content"] = 5;
  EXPECT_EQ(error_of(j), "messages.0.content: expected a string or an array of content blocks, got a number");
  j = minimal();
  j["system"] = Json::array({{{"type", "image"}}});
  EXPECT_NE(error_of(j).find("system.0.type"), std::string::npos);
}

TEST(RequestParser, ChecksRanges) {
  Json j = minimal();
  j["max_tokens"] = 0;
  EXPECT_EQ(error_of(j), "max_tokens: must be greater than or equal to 1");
  j["max_tokens"] = 1.5;
  EXPECT_EQ(error_of(j), "max_tokens: expected an integer, got 1.5");
  j["max_tokens"] = 1e300;
  EXPECT_NE(error_of(j).find("max_tokens: expected an integer"), std::string::npos);
  j = minimal();
  j["temperature"] = 1.5;
  EXPECT_EQ(error_of(j), "temperature: must be between 0 and 1, got 1.5");
  j = minimal();
  j["top_k"] = -1;
  EXPECT_EQ(error_of(j), "top_k: must be greater than or equal to 0");
  j = minimal();
  j["thinking"] = {{"type", "enabled"}, {"budget_tokens", 10}};
  EXPECT_EQ(error_of(j), "thinking.budget_tokens: must be greater than or equal to 1024");
}

TEST(RequestParser, HugeIntegerLiteralIsOutOfRangeNotAnOverflow) {
  std::string body = R"({"model":"m","max_tokens":123456789012345678901234567890,"messages":[{"role":"user","content":"x"}]})";
  EXPECT_NE(error_of_text(body).find("max_tokens"), std::string::npos);
  body = R"({"model":"m","max_tokens":18446744073709551615,"messages":[{"role":"user","content":"x"}]})";
  EXPECT_EQ(error_of_text(body), "max_tokens: integer out of range");
}

TEST(RequestParser, NumberBeyondDoubleIsABadRequestNotAnInternalError) {
  std::string body = R"({"model":"m","max_tokens":1e309,"messages":[{"role":"user","content":"x"}]})";
  EXPECT_NE(error_of_text(body).find("not valid JSON"), std::string::npos);
}

TEST(RequestParser, LargeMaxTokensIsAcceptedAndCappedLater) {
  Json j = minimal();
  j["max_tokens"] = 1000000000;
  EXPECT_EQ(parse(j).max_tokens, 1000000000);
}

TEST(RequestParser, NullOptionalFieldsAreAbsent) {
  Json j = minimal();
  j["temperature"] = nullptr;
  j["system"] = nullptr;
  j["tools"] = nullptr;
  MessagesRequest r = parse(j);
  EXPECT_FALSE(r.temperature);
}

TEST(RequestParser, RejectsEmptyMessagesAndEmptyContent) {
  Json j = minimal();
  j["messages"] = Json::array();
  EXPECT_EQ(error_of(j), "messages: at least one message is required");
  j = minimal();
  j["messages"][0]["content"] = "";
  EXPECT_NE(error_of(j).find("messages.0.content: messages must have non-empty content"), std::string::npos);
  // ...except for a final assistant message (a prefill)
  j = minimal();
  j["messages"].push_back({{"role", "assistant"}, {"content", Json::array()}});
  EXPECT_NO_THROW(parse(j));
}

TEST(RequestParser, RejectsUnknownRoleAndUnknownBlockType) {
  Json j = minimal();
  j["messages"][0]["role"] = "tool";
  EXPECT_EQ(error_of(j), "messages.0.role: role must be 'user', 'assistant' or 'system', got 'tool'");
  j = minimal();
  j["messages"][0]["content"] = Json::array({{{"type", "hologram"}}});
  EXPECT_EQ(error_of(j), "messages.0.content.0.type: unknown content block type 'hologram'");
}

TEST(RequestParser, IgnoresKnownServerSideBlockTypes) {
  Json j = minimal();
  j["messages"].push_back({{"role", "assistant"},
                           {"content", Json::array({{{"type", "server_tool_use"}, {"id", "s"}, {"name", "web_search"}},
                                                    {{"type", "text"}, {"text", "ok"}}})}});
  MessagesRequest r = parse(j);
  ASSERT_EQ(r.messages[1].content.size(), 1u);
  EXPECT_EQ(r.messages[1].content[0].text, "ok");
}

TEST(RequestParser, ToolResultNeedsAMatchingToolUseInThePreviousMessage) {
  Json j = Json::parse(R"({"model":"m","max_tokens":5,"messages":[
    {"role":"user","content":"go"},
    {"role":"assistant","content":[{"type":"tool_use","id":"toolu_a","name":"t","input":{}}]},
    {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_b","content":"x"}]}]})");
  EXPECT_EQ(error_of(j),
            "messages.2.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_b. Each `tool_result` "
            "block must have a corresponding `tool_use` block in the previous message.");
  j["messages"][2]["content"][0]["tool_use_id"] = "toolu_a";
  EXPECT_NO_THROW(parse(j));
  // An in-place system message between the call and its result does not break the pairing.
  j["messages"].insert(j["messages"].begin() + 2, Json::object({{"role", "system"}, {"content", "reminder"}}));
  EXPECT_NO_THROW(parse(j));
}

TEST(RequestParser, BlocksMustSuitTheirRole) {
  Json j = minimal();
  j["messages"][0]["content"] = Json::array({{{"type", "tool_use"}, {"id", "x"}, {"name", "t"}, {"input", Json::object()}}});
  EXPECT_EQ(error_of(j), "messages.0.content.0.type: 'tool_use' blocks are only allowed in assistant messages");
}

TEST(RequestParser, ValidatesToolsAndToolChoice) {
  Json j = minimal();
  j["tools"] = Json::parse(R"([{"name":"has space","input_schema":{}}])");
  EXPECT_NE(error_of(j).find("tools.0.name"), std::string::npos);
  j["tools"] = Json::parse(R"([{"name":"t"}])");
  EXPECT_EQ(error_of(j), "tools.0.input_schema: field required");
  j["tools"] = Json::parse(R"([{"name":"t","input_schema":{}},{"name":"t","input_schema":{}}])");
  EXPECT_EQ(error_of(j), "tools.1.name: tool names must be unique: 't'");
  j["tools"] = Json::parse(R"([{"name":"t","input_schema":{}}])");
  j["tool_choice"] = {{"type", "tool"}, {"name", "u"}};
  EXPECT_EQ(error_of(j), "tool_choice.name: no tool named 'u' in `tools`");
  j["tool_choice"] = {{"type", "sometimes"}};
  EXPECT_EQ(error_of(j), "tool_choice.type: must be one of 'auto', 'any', 'tool', 'none', got 'sometimes'");
  j["tool_choice"] = {{"type", "any"}, {"disable_parallel_tool_use", true}};
  MessagesRequest r = parse(j);
  EXPECT_EQ(r.tool_choice.type, ToolChoiceType::any);
  EXPECT_TRUE(r.tool_choice.disable_parallel_tool_use);
  j.erase("tools");
  EXPECT_EQ(error_of(j), "tool_choice: 'any' requires at least one tool in `tools`");
}

TEST(RequestParser, AnthropicDefinedToolTypesAreSkipped) {
  Json j = minimal();
  j["tools"] = Json::parse(R"([{"type":"web_search_20250305","name":"web_search"},{"name":"t","input_schema":{}}])");
  MessagesRequest r = parse(j);
  ASSERT_EQ(r.tools.size(), 1u);
  EXPECT_EQ(r.tools[0].name, "t");
}

TEST(RequestParser, StopSequences) {
  Json j = minimal();
  j["stop_sequences"] = {"END", "###"};
  EXPECT_EQ(parse(j).stop_sequences.size(), 2u);
  j["stop_sequences"] = {""};
  EXPECT_EQ(error_of(j), "stop_sequences.0: must not be empty");
  j["stop_sequences"] = {1};
  EXPECT_EQ(error_of(j), "stop_sequences.0: expected a string, got a number");
}

TEST(RequestParser, BadJsonAndNonObjects) {
  EXPECT_NE(error_of_text("{").find("request body is not valid JSON"), std::string::npos);
  EXPECT_NE(error_of_text("").find("request body is empty"), std::string::npos);
  EXPECT_EQ(error_of_text("[]"), "request body must be a JSON object, got an array");
  EXPECT_NE(error_of_text(R"({"model":"m"} trailing)").find("not valid JSON"), std::string::npos);
}

TEST(RequestParser, InvalidUtf8AndLoneSurrogatesAreRejected) {
  std::string body = std::string(R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":")") + "\xff\xfe" + R"("}]})";
  EXPECT_NE(error_of_text(body).find("not valid JSON"), std::string::npos);
  body = R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"\ud800"}]})";
  EXPECT_NE(error_of_text(body).find("not valid JSON"), std::string::npos);
}

TEST(RequestParser, DeepNestingIsRefusedBeforeParsing) {
  std::string deep = R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"metadata":)" +
                     std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_EQ(error_of_text(deep), "request body nests deeper than 128 levels");
  // Brackets inside strings do not count.
  Json j = minimal();
  j["messages"][0]["content"] = std::string(1000, '[');
  EXPECT_NO_THROW(parse(j));
}

TEST(JsonNestingDepth, CountsOnlyStructure) {
  EXPECT_EQ(json_nesting_depth(R"({"a":[1,{"b":"[[["}]})", 100), 3);
  EXPECT_EQ(json_nesting_depth(R"("\"[")", 100), 0);
}

}  // namespace
}  // namespace hearth::api
