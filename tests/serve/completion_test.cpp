// The serve layer's completion with the real Qwen3 tokenizer, the qwen3_5 renderer, the output parser and the
// scripted model: events and usage for text, thinking on/off, forced tool calls (named and "any",
// against a script that would not call), single-call limits, budgets, count_tokens, context limit.
#include <gtest/gtest.h>

#include "chat/scripted_responder.h"
#include "serve/completion.h"
#include "user_request.h"
#include "util/error.h"

namespace hearth::serve {

using namespace chat;
namespace {

std::shared_ptr<const Tokenizer> qwen_tokenizer() {
  static auto t = Tokenizer::load(HEARTH_TEST_TOKENIZER_DIR);
  return t;
}

Script script_of(const std::string& json) { return parse_script(json, "test"); }

struct Generation {
  std::vector<ContentEvent> events;
  api::GenerationOutcome outcome;
  api::Usage start_usage;
  std::string text_of(BlockKind kind) const {
    std::string out;
    for (const auto& e : events) {
      if (e.type == EventType::block_delta && e.kind == kind) out += e.text;
    }
    return out;
  }
  std::vector<std::string> tool_names() const {
    std::vector<std::string> out;
    for (const auto& e : events) {
      if (e.type == EventType::block_start && e.kind == BlockKind::tool_use) out.push_back(e.tool_name);
    }
    return out;
  }
};

class CompletionTest : public ::testing::Test {
 protected:
  void make(const std::string& script_json, CompletionSettings settings = {}, int64_t max_context = 4096) {
    settings.max_context = max_context;
    settings.sampling.temperature = 0;
    completion = std::make_unique<Completion>(qwen_tokenizer(),
                                              make_scripted_model(qwen_tokenizer(), script_of(script_json), max_context),
                                              settings);
  }
  Generation run(const api::MessagesRequest& request, std::function<bool(const ContentEvent&)> extra = {}) {
    Generation r;
    auto prepared = completion->prepare(request);
    api::GenerationHooks hooks;
    hooks.on_start = [&](const api::Usage& u) { r.start_usage = u; };
    hooks.on_event = [&](const ContentEvent& e) {
      r.events.push_back(e);
      return extra ? extra(e) : true;
    };
    r.outcome = completion->generate(*prepared, hooks);
    return r;
  }
  std::unique_ptr<Completion> completion;
};

api::MessagesRequest ask(const std::string& text, int64_t max_tokens = 200) {
  return testing::user_request(text, max_tokens);
}

api::Tool tool(const std::string& name, const std::string& param) {
  api::Tool t;
  t.name = name;
  t.input_schema = api::Json::parse(R"({"type":"object","properties":{")" + param + R"(":{"type":"string"}}})");
  return t;
}

const char* kScript = R"({"rules":[
  {"when_last_user_contains":"weather","respond":"<think>\nNeed the tool.\n</think>\n\n<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n</function>\n</tool_call>\n<tool_call>\n<function=get_time>\n<parameter=zone>\nCET\n</parameter>\n</function>\n</tool_call>"},
  {"when_last_user_contains":"plain","respond":"Just text."},
  {"otherwise":true,"respond":"<think>\nEasy.\n</think>\n\nHello there, friend."}]})";

TEST_F(CompletionTest, ThinkingThenTextWithUsage) {
  make(kScript);
  api::MessagesRequest req = ask("hi");
  Generation r = run(req);
  EXPECT_EQ(r.text_of(BlockKind::thinking), "Easy.");
  EXPECT_EQ(r.text_of(BlockKind::text), "Hello there, friend.");
  EXPECT_EQ(r.outcome.end, api::GenerationEnd::end_turn);
  EXPECT_EQ(r.start_usage.input_tokens, completion->count_tokens(req));
  EXPECT_EQ(r.outcome.usage.input_tokens, r.start_usage.input_tokens);
  EXPECT_GT(r.outcome.usage.output_tokens, 5);
}

TEST_F(CompletionTest, ReplyWithoutThinkClosesTheOpenThinkBlock) {
  make(kScript);
  Generation r = run(ask("plain please"));
  EXPECT_EQ(r.text_of(BlockKind::thinking), "");
  EXPECT_EQ(r.text_of(BlockKind::text), "Just text.");
}

TEST_F(CompletionTest, ThinkingDisabledByRequestOrServerEmitsNoThinking) {
  make(kScript);
  api::MessagesRequest req = ask("hi");
  req.thinking.mode = api::ThinkingMode::disabled;
  Generation r = run(req);
  EXPECT_EQ(r.text_of(BlockKind::thinking), "");
  EXPECT_EQ(r.text_of(BlockKind::text), "Hello there, friend.");
  CompletionSettings off;
  off.enable_thinking = false;
  make(kScript, off);
  Generation r2 = run(ask("hi"));
  EXPECT_EQ(r2.text_of(BlockKind::thinking), "");
  EXPECT_EQ(r2.text_of(BlockKind::text), "Hello there, friend.");
}

TEST_F(CompletionTest, ParallelToolCallsAreParsedWithTypedInputs) {
  make(kScript);
  api::MessagesRequest req = ask("what is the weather");
  req.tools = {tool("get_weather", "city"), tool("get_time", "zone")};
  Generation r = run(req);
  EXPECT_EQ(r.tool_names(), (std::vector<std::string>{"get_weather", "get_time"}));
  std::string inputs = r.text_of(BlockKind::tool_use);
  EXPECT_NE(inputs.find("\"city\":\"Paris\""), std::string::npos) << inputs;
  EXPECT_EQ(r.outcome.end, api::GenerationEnd::end_turn);
}

TEST_F(CompletionTest, DisableParallelToolUseStopsAfterTheFirstCall) {
  make(kScript);
  api::MessagesRequest req = ask("what is the weather");
  req.tools = {tool("get_weather", "city"), tool("get_time", "zone")};
  req.tool_choice.disable_parallel_tool_use = true;
  Generation r = run(req);
  EXPECT_EQ(r.tool_names(), std::vector<std::string>{"get_weather"});
  EXPECT_EQ(r.outcome.end, api::GenerationEnd::end_turn);
}

TEST_F(CompletionTest, ToolChoiceToolForcesTheNamedCall) {
  // The script would answer in prose; the forced opening makes it a call of get_time.
  make(R"({"rules":[{"otherwise":true,"respond":"<parameter=zone>\nUTC\n</parameter>\n</function>\n</tool_call>"}]})");
  api::MessagesRequest req = ask("hi");
  req.tools = {tool("get_weather", "city"), tool("get_time", "zone")};
  req.tool_choice.type = api::ToolChoiceType::tool;
  req.tool_choice.name = "get_time";
  Generation r = run(req);
  EXPECT_EQ(r.tool_names(), std::vector<std::string>{"get_time"});
  EXPECT_EQ(r.text_of(BlockKind::tool_use), "{\"zone\":\"UTC\"}");
  EXPECT_EQ(r.text_of(BlockKind::thinking), "");
}

TEST_F(CompletionTest, ToolChoiceAnyConstrainsTheNameToAKnownTool) {
  // The script tries to call a tool that does not exist; the name constraint steers it to a real one.
  make(R"({"rules":[{"otherwise":true,"respond":"<tool_call>\n<function=zzz_unknown>\n</function>\n</tool_call>"}]})");
  api::MessagesRequest req = ask("hi");
  req.tools = {tool("get_weather", "city"), tool("get_time", "zone")};
  req.tool_choice.type = api::ToolChoiceType::any;
  Generation r = run(req);
  ASSERT_EQ(r.tool_names().size(), 1u);
  EXPECT_TRUE(r.tool_names()[0] == "get_weather" || r.tool_names()[0] == "get_time");
}

TEST_F(CompletionTest, ToolChoiceAnyKeepsTheScriptedNameWhenItIsValid) {
  make(R"({"rules":[{"otherwise":true,"respond":"<tool_call>\n<function=get_time>\n<parameter=zone>\nUTC\n</parameter>\n</function>\n</tool_call>"}]})");
  api::MessagesRequest req = ask("hi");
  req.tools = {tool("get_weather", "city"), tool("get_time", "zone")};
  req.tool_choice.type = api::ToolChoiceType::any;
  Generation r = run(req);
  EXPECT_EQ(r.tool_names(), std::vector<std::string>{"get_time"});
  EXPECT_EQ(r.text_of(BlockKind::tool_use), "{\"zone\":\"UTC\"}");
}

TEST_F(CompletionTest, ToolChoiceNoneLeavesCallsAsText) {
  make(kScript);
  api::MessagesRequest req = ask("what is the weather");
  req.tools = {tool("get_weather", "city"), tool("get_time", "zone")};
  req.tool_choice.type = api::ToolChoiceType::none;
  Generation r = run(req);
  EXPECT_TRUE(r.tool_names().empty());
  EXPECT_NE(r.text_of(BlockKind::text).find("get_weather"), std::string::npos);
}

TEST_F(CompletionTest, MaxTokensCutsTheReply) {
  make(kScript);
  Generation r = run(ask("hi", 3));
  EXPECT_EQ(r.outcome.end, api::GenerationEnd::max_tokens);
  EXPECT_EQ(r.outcome.usage.output_tokens, 3);
}

TEST_F(CompletionTest, ServerMaxTokensCapsTheRequest) {
  CompletionSettings s;
  s.max_output_tokens = 4;
  make(kScript, s);
  Generation r = run(ask("hi", 1000));
  EXPECT_EQ(r.outcome.usage.output_tokens, 4);
  EXPECT_EQ(r.outcome.end, api::GenerationEnd::max_tokens);
}

TEST_F(CompletionTest, SinkStopEndsGenerationAsStopped) {
  make(kScript);
  Generation r = run(ask("hi"), [](const ContentEvent& e) { return !(e.kind == BlockKind::text && e.type == EventType::block_delta); });
  EXPECT_EQ(r.outcome.end, api::GenerationEnd::stopped);
}

TEST_F(CompletionTest, PromptOverTheContextIsTheCompactionError) {
  make(kScript, {}, 64);
  api::MessagesRequest req = ask(std::string(2000, 'x') + " long");
  const int64_t n = completion->count_tokens(req);
  try {
    completion->prepare(req);
    FAIL() << "expected prompt_too_long";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::prompt_too_long);
    EXPECT_EQ(std::string(e.what()), "prompt is too long: " + std::to_string(n) + " tokens > 63 maximum");
  }
}

TEST_F(CompletionTest, ScriptedFailureSurfacesAsAnInternalError) {
  make(R"({"rules":[{"when_last_user_contains":"explode","fail":"simulated engine failure"},{"otherwise":true,"respond":"ok"}]})");
  try {
    run(ask("please explode"));
    FAIL() << "expected the scripted failure";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::internal);
    EXPECT_STREQ(e.what(), "simulated engine failure");
  }
  // The model recovers for the next request.
  EXPECT_EQ(run(ask("hi")).text_of(BlockKind::text), "ok");
}

TEST(ScriptParsing, ErrorsNameTheRule) {
  EXPECT_THROW(parse_script("{", "s"), Error);
  try {
    parse_script(R"({"rules":[{"respond":"x"}]})", "s.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("s.json: rule 0"), std::string::npos);
  }
}

TEST(ScriptParsing, LastUserTurn) {
  EXPECT_EQ(last_user_turn("<|im_start|>user\nA<|im_end|>\n<|im_start|>assistant\nB<|im_end|>\n<|im_start|>user\nC<|im_end|>\n"), "C");
  EXPECT_EQ(last_user_turn("nothing"), "");
}

}  // namespace
}  // namespace hearth::serve
