// OpenAI Chat Completions bodies → the internal request: what SDKs and agents send maps onto the same
// request the Anthropic parser makes, and each bad or unsupported field is a 400 naming it (param).
#include <gtest/gtest.h>

#include "api/errors.h"
#include "api/openai_chat_parser.h"

namespace hearth::api {
namespace {

Json minimal() { return Json::parse(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})"); }

ChatCompletionRequest parse(const Json& j) { return parse_chat_completion_request(j.dump()); }

struct Refusal {
  std::string message;
  std::string param;
};

Refusal refusal_of(const Json& j) {
  try {
    parse_chat_completion_request(j.dump());
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 400);
    return {e.what(), e.param()};
  }
  return {"(parsed)", ""};
}

const Json kWeatherTool = Json::parse(R"({"type":"function","function":{"name":"get_weather","description":"Weather",
  "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}})");

TEST(OpenAiChatParser, MinimalRequestLeavesTheServerDefaults) {
  MessagesRequest r = parse(minimal()).request;
  EXPECT_EQ(r.model, "m");
  EXPECT_EQ(r.max_tokens, 0);  // the server's own output limit applies
  EXPECT_FALSE(r.stream);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].role, Role::user);
  EXPECT_EQ(r.messages[0].content[0].text, "hi");
  EXPECT_EQ(r.thinking.mode, ThinkingMode::unspecified);
}

TEST(OpenAiChatParser, LeadingSystemAndDeveloperMessagesBecomeTheSystemPromptLaterOnesStayInPlace) {
  Json j = minimal();
  j["messages"] = Json::parse(R"([{"role":"system","content":"Be brief."},
    {"role":"developer","content":[{"type":"text","text":"Use tools."}]},
    {"role":"user","content":"hi"},{"role":"system","content":"Reminder."},{"role":"user","content":"again"}])");
  MessagesRequest r = parse(j).request;
  std::string system;
  for (const ContentBlock& b : r.system) system += b.text;
  EXPECT_EQ(system, "Be brief.\n\nUse tools.");
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[1].role, Role::system);
  EXPECT_EQ(r.messages[1].content[0].text, "Reminder.");
}

TEST(OpenAiChatParser, ToolLoopMapsToToolUseAndOneUserMessageOfResults) {
  Json j = minimal();
  j["tools"] = Json::array({kWeatherTool});
  j["messages"] = Json::parse(R"([{"role":"user","content":"weather?"},
    {"role":"assistant","content":null,"reasoning_content":"Two cities.","tool_calls":[
      {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
      {"id":"call_2","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}]},
    {"role":"tool","tool_call_id":"call_1","content":"Sunny"},
    {"role":"tool","tool_call_id":"call_2","content":[{"type":"text","text":"Rain"}]}])");
  MessagesRequest r = parse(j).request;
  ASSERT_EQ(r.tools.size(), 1u);
  EXPECT_EQ(r.tools[0].name, "get_weather");
  EXPECT_EQ(r.tools[0].input_schema["required"][0], "city");
  ASSERT_EQ(r.messages.size(), 3u);
  const Message& assistant = r.messages[1];
  ASSERT_EQ(assistant.content.size(), 3u);
  EXPECT_EQ(assistant.content[0].type, BlockType::thinking);
  EXPECT_EQ(assistant.content[0].text, "Two cities.");
  EXPECT_EQ(assistant.content[1].type, BlockType::tool_use);
  EXPECT_EQ(assistant.content[1].id, "call_1");
  EXPECT_EQ(assistant.content[1].input["city"], "Paris");
  const Message& results = r.messages[2];
  EXPECT_EQ(results.role, Role::user);
  ASSERT_EQ(results.content.size(), 2u);
  EXPECT_EQ(results.content[0].type, BlockType::tool_result);
  EXPECT_EQ(results.content[0].tool_use_id, "call_1");
  EXPECT_EQ(results.content[1].content[0].text, "Rain");
}

TEST(OpenAiChatParser, ToolMessageMustAnswerACallOfThePrecedingAssistantMessage) {
  Json j = minimal();
  j["messages"] = Json::parse(R"([{"role":"user","content":"x"},
    {"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]},
    {"role":"tool","tool_call_id":"call_9","content":"?"}])");
  Refusal r = refusal_of(j);
  EXPECT_EQ(r.param, "messages.2.tool_call_id");
  EXPECT_NE(r.message.find("'call_9' answers no tool call"), std::string::npos) << r.message;
  // A user message in between breaks the run.
  j["messages"] = Json::parse(R"([{"role":"user","content":"x"},
    {"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]},
    {"role":"user","content":"y"},{"role":"tool","tool_call_id":"call_1","content":"?"}])");
  EXPECT_EQ(refusal_of(j).param, "messages.3.tool_call_id");
}

TEST(OpenAiChatParser, ArgumentsMustBeAJsonObjectString) {
  Json j = minimal();
  j["messages"] = Json::parse(R"([{"role":"user","content":"x"},
    {"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"[1]"}}]}])");
  EXPECT_EQ(refusal_of(j).param, "messages.1.tool_calls.0.function.arguments");
}

TEST(OpenAiChatParser, ToolChoiceParallelCallsAndReasoning) {
  Json j = minimal();
  j["tools"] = Json::array({kWeatherTool});
  j["tool_choice"] = "required";
  j["parallel_tool_calls"] = false;
  j["reasoning_effort"] = "none";
  MessagesRequest r = parse(j).request;
  EXPECT_EQ(r.tool_choice.type, ToolChoiceType::any);
  EXPECT_TRUE(r.tool_choice.disable_parallel_tool_use);
  EXPECT_EQ(r.thinking.mode, ThinkingMode::disabled);

  j["tool_choice"] = {{"type", "function"}, {"function", {{"name", "get_weather"}}}};
  j["chat_template_kwargs"] = {{"enable_thinking", true}};
  r = parse(j).request;
  EXPECT_EQ(r.tool_choice.type, ToolChoiceType::tool);
  EXPECT_EQ(r.tool_choice.name, "get_weather");
  EXPECT_EQ(r.thinking.mode, ThinkingMode::enabled);

  j["tool_choice"] = {{"type", "function"}, {"function", {{"name", "nope"}}}};
  EXPECT_EQ(refusal_of(j).param, "tool_choice.function.name");
  j["tool_choice"] = "sometimes";
  EXPECT_EQ(refusal_of(j).param, "tool_choice");
  j.erase("tools");
  j["tool_choice"] = "required";
  EXPECT_EQ(refusal_of(j).message, "tool_choice: 'required' requires at least one tool in `tools`");
}

TEST(OpenAiChatParser, SamplingLimitsStopAndStreamOptions) {
  Json j = minimal();
  j["max_tokens"] = 50;
  j["max_completion_tokens"] = 70;
  j["temperature"] = 1.5;
  j["top_p"] = 0.9;
  j["seed"] = 42;
  j["stop"] = "END";
  j["stream"] = true;
  j["stream_options"] = {{"include_usage", true}};
  j["prompt_cache_key"] = "conv-1";
  ChatCompletionRequest p = parse(j);
  EXPECT_EQ(p.request.max_tokens, 70);  // the newer field wins
  EXPECT_DOUBLE_EQ(*p.request.temperature, 1.5);
  EXPECT_DOUBLE_EQ(*p.request.top_p, 0.9);
  EXPECT_EQ(*p.request.seed, 42u);
  EXPECT_EQ(p.request.stop_sequences, std::vector<std::string>{"END"});
  EXPECT_TRUE(p.request.stream);
  EXPECT_TRUE(p.include_usage);
  EXPECT_EQ(p.request.session_id, "conv-1");

  j["stop"] = Json::array({"a", "b"});
  EXPECT_EQ(parse(j).request.stop_sequences.size(), 2u);
  j["temperature"] = 2.5;
  EXPECT_EQ(refusal_of(j).param, "temperature");
  j["temperature"] = 1;
  j["max_completion_tokens"] = 0;
  EXPECT_EQ(refusal_of(j).param, "max_completion_tokens");
}

TEST(OpenAiChatParser, UnsupportedFeaturesAreRefusedNotIgnored) {
  const std::vector<std::pair<std::string, Json>> cases = {
      {"n", 2},
      {"logprobs", true},
      {"top_logprobs", 3},
      {"logit_bias", {{"50256", -100}}},
      {"presence_penalty", 0.5},
      {"frequency_penalty", 1},
      {"response_format", {{"type", "json_object"}}},
      {"audio", {{"voice", "alloy"}}},
      {"modalities", Json::array({"text", "audio"})},
      {"functions", Json::array()},
  };
  for (const auto& [field, value] : cases) {
    Json j = minimal();
    j[field] = value;
    Refusal r = refusal_of(j);
    EXPECT_EQ(r.param.substr(0, field.size()), field) << field << ": " << r.message;
  }
  // Their neutral values are what many clients send by default: accepted.
  Json j = minimal();
  j["n"] = 1;
  j["logprobs"] = false;
  j["presence_penalty"] = 0;
  j["frequency_penalty"] = 0;
  j["response_format"] = {{"type", "text"}};
  j["user"] = "u";
  j["store"] = false;
  EXPECT_EQ(parse(j).request.metadata_user_id, "u");
}

TEST(OpenAiChatParser, ContentPartsAndRoles) {
  Json j = minimal();
  j["messages"][0]["content"] = Json::parse(R"([{"type":"text","text":"look"},
    {"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}])");
  MessagesRequest r = parse(j).request;
  ASSERT_EQ(r.messages[0].content.size(), 2u);
  EXPECT_EQ(r.messages[0].content[1].type, BlockType::image);
  EXPECT_EQ(r.messages[0].content[1].media_type, "image/png");

  j["messages"][0]["content"] = Json::parse(R"([{"type":"input_audio","input_audio":{"data":"","format":"wav"}}])");
  EXPECT_EQ(refusal_of(j).param, "messages.0.content.0.type");
  j["messages"][0] = {{"role", "function"}, {"name", "f"}, {"content", "x"}};
  EXPECT_EQ(refusal_of(j).param, "messages.0.role");
  j["messages"][0] = {{"role", "robot"}, {"content", "x"}};
  EXPECT_EQ(refusal_of(j).param, "messages.0.role");
  j["messages"] = Json::array({{{"role", "system"}, {"content", "only a system prompt"}}});
  EXPECT_EQ(refusal_of(j).param, "messages");
  j.erase("messages");
  EXPECT_EQ(refusal_of(j).message, "messages: field required");
}

TEST(OpenAiChatParser, ToolsMustBeFunctionsWithValidUniqueNames) {
  Json j = minimal();
  j["tools"] = Json::array({{{"type", "custom"}, {"custom", {{"name", "x"}}}}});
  EXPECT_EQ(refusal_of(j).param, "tools.0.type");
  j["tools"] = Json::array({kWeatherTool, kWeatherTool});
  EXPECT_EQ(refusal_of(j).param, "tools.1.function.name");
  j["tools"] = Json::array({{{"type", "function"}, {"function", {{"name", "no spaces allowed"}}}}});
  EXPECT_EQ(refusal_of(j).param, "tools.0.function.name");
  // No parameters: a function without arguments.
  j["tools"] = Json::array({{{"type", "function"}, {"function", {{"name", "now"}}}}});
  EXPECT_EQ(parse(j).request.tools[0].input_schema["type"], "object");
}

}  // namespace
}  // namespace hearth::api
