// POST /v1/responses: Codex-shaped input items map onto the internal request (assistant-side items
// merged, function_call_output answering its call), hosted tools are left out, stored state is refused;
// the Response object and the streamed semantic events come out of the same events.
#include <gtest/gtest.h>

#include "api/api_server.h"
#include "api/errors.h"
#include "api/openai_responses_parser.h"
#include "api/openai_routes.h"
#include "fake_backend.h"

namespace hearth::api {
namespace {

using testing::FakeBackend;
using testing::CapturedStream;
using testing::text_reply;

Json minimal() { return Json::parse(R"({"model":"m","input":"hi"})"); }

std::string param_of(const Json& j) {
  try {
    parse_responses_request(j.dump());
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 400);
    return e.param().empty() ? std::string("(no param) ") + e.what() : e.param();
  }
  return "(parsed)";
}

TEST(OpenAiResponsesParser, StringInputAndInstructions) {
  Json j = minimal();
  j["instructions"] = "Be brief.";
  ResponsesRequest p = parse_responses_request(j.dump());
  ASSERT_EQ(p.request.system.size(), 1u);
  EXPECT_EQ(p.request.system[0].text, "Be brief.");
  ASSERT_EQ(p.request.messages.size(), 1u);
  EXPECT_EQ(p.request.messages[0].content[0].text, "hi");
  EXPECT_EQ(p.echo["instructions"], "Be brief.");
}

// What Codex sends on the second turn of a tool loop (shapes recorded from codex exec 0.171.0).
TEST(OpenAiResponsesParser, CodexToolLoopItems) {
  Json j = Json::parse(R"({"model":"m","stream":true,"store":false,"include":["reasoning.encrypted_content"],
    "tool_choice":"auto","parallel_tool_calls":true,"reasoning":{"summary":"auto"},"prompt_cache_key":"thread-1",
    "tools":[{"type":"function","name":"exec_command","strict":false,"parameters":{"type":"object","properties":{"cmd":{"type":"string"}}}},
             {"type":"namespace","name":"multi_agent_v1","tools":[]},{"type":"web_search","external_web_access":true}],
    "input":[
      {"type":"message","role":"developer","content":[{"type":"input_text","text":"You are Codex."}]},
      {"type":"message","role":"user","content":[{"type":"input_text","text":"make a file"}]},
      {"type":"reasoning","id":"rs_1","summary":[],"content":[{"type":"reasoning_text","text":"Use the shell."}],"encrypted_content":null},
      {"type":"message","role":"assistant","content":[{"type":"output_text","text":"Creating it."}]},
      {"type":"function_call","name":"exec_command","arguments":"{\"cmd\":\"touch a\"}","call_id":"call_1"},
      {"type":"function_call_output","call_id":"call_1","output":"done"}]})");
  ResponsesRequest p = parse_responses_request(j.dump());
  const MessagesRequest& r = p.request;
  EXPECT_TRUE(r.stream);
  EXPECT_EQ(r.session_id, "thread-1");
  ASSERT_EQ(r.tools.size(), 1u);  // the hosted and namespace tools are not offered
  EXPECT_EQ(r.tools[0].name, "exec_command");
  EXPECT_EQ(r.system[0].text, "You are Codex.");
  ASSERT_EQ(r.messages.size(), 3u);
  const Message& assistant = r.messages[1];
  EXPECT_EQ(assistant.role, Role::assistant);
  ASSERT_EQ(assistant.content.size(), 3u);
  EXPECT_EQ(assistant.content[0].type, BlockType::thinking);
  EXPECT_EQ(assistant.content[0].text, "Use the shell.");
  EXPECT_EQ(assistant.content[1].text, "Creating it.");
  EXPECT_EQ(assistant.content[2].type, BlockType::tool_use);
  EXPECT_EQ(assistant.content[2].input["cmd"], "touch a");
  EXPECT_EQ(r.messages[2].role, Role::user);
  EXPECT_EQ(r.messages[2].content[0].type, BlockType::tool_result);
  EXPECT_EQ(r.messages[2].content[0].tool_use_id, "call_1");
  EXPECT_EQ(r.messages[2].content[0].content[0].text, "done");
}

TEST(OpenAiResponsesParser, RefusesWhatItCannotHonour) {
  Json j = minimal();
  j["previous_response_id"] = "resp_1";
  EXPECT_EQ(param_of(j), "previous_response_id");
  j = minimal();
  j["text"] = {{"format", {{"type", "json_schema"}}}};
  EXPECT_EQ(param_of(j), "text.format.type");
  j = minimal();
  j["input"] = Json::parse(R"([{"type":"item_reference","id":"x"}])");
  EXPECT_EQ(param_of(j), "input.0.type");
  j["input"] = Json::parse(R"([{"type":"function_call_output","call_id":"nope","output":"x"}])");
  EXPECT_EQ(param_of(j), "input.0.call_id");
  j["input"] = Json::parse(R"([{"role":"user","content":[{"type":"input_file","file_id":"f"}]}])");
  EXPECT_EQ(param_of(j), "input.0.content.0.type");
  j = minimal();
  j["top_logprobs"] = 2;
  EXPECT_EQ(param_of(j), "top_logprobs");
  j = minimal();
  j["max_output_tokens"] = 0;
  EXPECT_EQ(param_of(j), "max_output_tokens");
  j = minimal();
  j["reasoning"] = {{"effort", "extreme"}};
  EXPECT_EQ(param_of(j), "reasoning.effort");
  j = minimal();
  j.erase("input");
  EXPECT_EQ(param_of(j), "input");
  j = minimal();
  j["reasoning"] = {{"effort", "minimal"}};
  EXPECT_EQ(parse_responses_request(j.dump()).request.thinking.mode, ThinkingMode::disabled);
}

ApiConfig config() {
  ApiConfig c;
  c.served_model_names = {"m"};
  c.log_requests = false;
  c.disconnect_poll_ms = 2;
  return c;
}

HttpRequest post(std::string body) { return testing::post_request(std::move(body)); }

std::vector<ContentEvent> reasoning_text_and_call() {
  return {
      {EventType::block_start, BlockKind::thinking, "", ""},
      {EventType::block_delta, BlockKind::thinking, "Plan.", ""},
      {EventType::block_end, BlockKind::thinking, "", ""},
      {EventType::block_start, BlockKind::text, "", ""},
      {EventType::block_delta, BlockKind::text, "On it.", ""},
      {EventType::block_end, BlockKind::text, "", ""},
      {EventType::block_start, BlockKind::tool_use, "", "exec_command"},
      {EventType::block_delta, BlockKind::tool_use, "{\"cmd\":", ""},
      {EventType::block_delta, BlockKind::tool_use, "\"ls\"}", ""},
      {EventType::block_end, BlockKind::tool_use, "", ""},
  };
}

TEST(OpenAiResponsesRoutes, ResponseObjectHasReasoningMessageAndFunctionCallItems) {
  FakeBackend backend;
  backend.events = reasoning_text_and_call();
  ApiRoutes routes(config(), backend);
  OpenAiRoutes openai(routes);
  HttpResponse r = openai.responses(post(R"({"model":"m","input":"go","parallel_tool_calls":false})"));
  ASSERT_EQ(r.status, 200) << r.body;
  Json resp = Json::parse(r.body);
  EXPECT_EQ(resp["object"], "response");
  EXPECT_TRUE(resp["id"].get<std::string>().starts_with("resp_"));
  EXPECT_EQ(resp["status"], "completed");
  EXPECT_EQ(resp["parallel_tool_calls"], false);  // echoed
  const Json& out = resp["output"];
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0]["type"], "reasoning");
  EXPECT_EQ(out[0]["content"][0]["text"], "Plan.");
  EXPECT_EQ(out[1]["type"], "message");
  EXPECT_EQ(out[1]["content"][0]["type"], "output_text");
  EXPECT_EQ(out[1]["content"][0]["text"], "On it.");
  EXPECT_EQ(out[2]["type"], "function_call");
  EXPECT_EQ(out[2]["name"], "exec_command");
  EXPECT_EQ(out[2]["arguments"], R"({"cmd":"ls"})");
  EXPECT_TRUE(out[2]["call_id"].get<std::string>().starts_with("call_"));
  EXPECT_EQ(resp["usage"]["input_tokens"], 10);
  EXPECT_EQ(resp["usage"]["output_tokens"], 10);
  EXPECT_EQ(resp["usage"]["input_tokens_details"]["cached_tokens"], 0);
}

TEST(OpenAiResponsesRoutes, StreamedEventsAreOrderedAndEndWithCompleted) {
  FakeBackend backend;
  backend.events = reasoning_text_and_call();
  ApiRoutes routes(config(), backend);
  OpenAiRoutes openai(routes);
  HttpResponse r = openai.responses(post(R"({"model":"m","input":"go","stream":true})"));
  ASSERT_EQ(r.status, 200) << r.body;
  CapturedStream out;
  r.stream(out);
  std::vector<std::string> types;
  std::vector<Json> events;
  for (const std::string& data : testing::sse_data(out.data)) {
    events.push_back(Json::parse(data));
    types.push_back(events.back()["type"]);
  }
  const std::vector<std::string> expected = {
      "response.created", "response.in_progress",
      "response.output_item.added", "response.content_part.added", "response.reasoning_text.delta",
      "response.reasoning_text.done", "response.content_part.done", "response.output_item.done",
      "response.output_item.added", "response.content_part.added", "response.output_text.delta", "response.output_text.done",
      "response.content_part.done", "response.output_item.done",
      "response.output_item.added", "response.function_call_arguments.delta", "response.function_call_arguments.delta",
      "response.function_call_arguments.done", "response.output_item.done",
      "response.completed"};
  EXPECT_EQ(types, expected);
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i]["sequence_number"], i);
  EXPECT_EQ(events[18]["item"]["arguments"], R"({"cmd":"ls"})");
  EXPECT_EQ(events.back()["response"]["output"].size(), 3u);
  EXPECT_EQ(events.back()["response"]["status"], "completed");
}

TEST(OpenAiResponsesRoutes, FailureMidStreamIsErrorThenResponseFailed) {
  FakeBackend backend;
  backend.events = text_reply({"a"});
  backend.fail_mid_stream = true;
  ApiRoutes routes(config(), backend);
  OpenAiRoutes openai(routes);
  HttpResponse r = openai.responses(post(R"({"model":"m","input":"go","stream":true})"));
  CapturedStream out;
  r.stream(out);
  EXPECT_NE(out.data.find("event: error\n"), std::string::npos) << out.data;
  EXPECT_NE(out.data.find("event: response.failed\n"), std::string::npos) << out.data;
  EXPECT_EQ(out.data.find("response.completed"), std::string::npos);
}

}  // namespace
}  // namespace hearth::api
