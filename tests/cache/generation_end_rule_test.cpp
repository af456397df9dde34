// The end-of-generation rule (cache/checkpoint_planner.h) checked against the real Qwen3.5 renderer and
// tokenizer: the state after a generated turn is a prefix of the next prompt exactly when the rule says
// it is worth saving, and the layout marks the position where the next prompt resumes otherwise.
#include <gtest/gtest.h>

#include <algorithm>

#include "cache/checkpoint_planner.h"
#include "chat/prompt_layout.h"
#include "chat/renderer.h"
#include "chat/tokenizer.h"

namespace hearth::cache {
namespace {

using chat::Token;
using Tokens = std::vector<Token>;

const chat::Tokenizer& tokenizer() {
  static const auto t = chat::Tokenizer::load(HEARTH_TEST_TOKENIZER_DIR);
  return *t;
}

api::ContentBlock text(std::string s) {
  api::ContentBlock b;
  b.type = api::BlockType::text;
  b.text = std::move(s);
  return b;
}

api::ContentBlock thinking(std::string s) {
  api::ContentBlock b;
  b.type = api::BlockType::thinking;
  b.text = std::move(s);
  b.signature = "sig";
  return b;
}

api::ContentBlock tool_use(std::string id, std::string name, api::Json input) {
  api::ContentBlock b;
  b.type = api::BlockType::tool_use;
  b.id = std::move(id);
  b.name = std::move(name);
  b.input = std::move(input);
  return b;
}

api::ContentBlock tool_result(std::string id, std::string content) {
  api::ContentBlock b;
  b.type = api::BlockType::tool_result;
  b.tool_use_id = std::move(id);
  b.content.push_back(text(std::move(content)));
  return b;
}

api::Message message(api::Role role, std::vector<api::ContentBlock> blocks) { return api::Message{role, std::move(blocks)}; }

api::MessagesRequest first_request() {
  api::MessagesRequest r;
  r.model = "m";
  r.system.push_back(text("You are a careful coding agent."));
  api::Tool bash;
  bash.name = "Bash";
  bash.description = "Run a shell command.";
  bash.input_schema = api::Json::parse(R"({"type":"object","properties":{"command":{"type":"string"}},"required":["command"]})");
  r.tools.push_back(bash);
  r.messages.push_back(message(api::Role::user, {text("List the files, then count them.")}));
  return r;
}

struct Prompt {
  Tokens tokens;
  PromptLayout layout;
};

Prompt render(const api::MessagesRequest& request, chat::RenderOptions options = {}) {
  auto renderer = chat::Renderer::create(chat::ChatFormat::qwen3_5);
  chat::RenderedPrompt rendered = renderer->render(request, options);
  Prompt p;
  p.tokens = tokenizer().encode(rendered.text);
  p.layout = chat::prompt_layout(rendered, p.tokens, tokenizer());
  return p;
}

Tokens concat(Tokens a, const Tokens& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

bool is_prefix(const Tokens& prefix, const Tokens& of) {
  return prefix.size() <= of.size() && std::equal(prefix.begin(), prefix.end(), of.begin());
}

int64_t position_of(const PromptLayout& layout, CheckpointKind kind) {
  for (const Boundary& b : layout.boundaries)
    if (b.kind == kind) return b.position;
  return -1;
}

// Raw model output for a turn with reasoning, a sentence and one Bash call (what the model emits after
// the generation prompt "<|im_start|>assistant\n<think>\n", without the final <|im_end|>).
constexpr const char* kToolTurnOutput =
    "The user wants a listing first.\n</think>\n\nLet me look.\n\n<tool_call>\n<function=Bash>\n"
    "<parameter=command>\nls -la\n</parameter>\n</function>\n</tool_call>";
constexpr const char* kFinalTurnOutput = "Two files: a.txt and b.txt.\n</think>\n\nThere are 2 files.";

api::Message tool_turn_as_sent_back() {
  return message(api::Role::assistant, {thinking("The user wants a listing first."), text("Let me look."),
                                        tool_use("toolu_1", "Bash", api::Json::parse(R"({"command":"ls -la"})"))});
}

api::Message final_turn_as_sent_back() {
  return message(api::Role::assistant, {thinking("Two files: a.txt and b.txt."), text("There are 2 files.")});
}

TEST(GenerationEndRule, LayoutMarksStaticPrefixLastQueryAndMessageEndsAtTokenBoundaries) {
  api::MessagesRequest r = first_request();
  r.messages.push_back(tool_turn_as_sent_back());
  r.messages.push_back(message(api::Role::user, {tool_result("toolu_1", "a.txt\nb.txt")}));
  Prompt p = render(r);
  ASSERT_EQ(p.layout.boundaries.size(), 4u);
  EXPECT_EQ(p.layout.boundaries[0].kind, CheckpointKind::static_prefix);
  EXPECT_EQ(p.layout.boundaries[1].kind, CheckpointKind::user_query_end);  // the tool result is no query
  EXPECT_EQ(p.layout.boundaries[2].kind, CheckpointKind::message_end);
  EXPECT_EQ(p.layout.boundaries[3].kind, CheckpointKind::message_end);
  for (const Boundary& b : p.layout.boundaries) {
    std::string before = tokenizer().decode(std::span<const Token>(p.tokens).first(static_cast<size_t>(b.position)));
    EXPECT_TRUE(before.ends_with("<|im_end|>\n")) << b.position;
  }
}

TEST(GenerationEndRule, AnchorMovesPastSystemMessagesThatFollowTheLastQuery) {
  api::MessagesRequest r = first_request();
  r.messages.push_back(message(api::Role::system, {text("# Environment\nWorking directory: /tmp")}));
  Prompt p = render(r);
  ASSERT_EQ(p.layout.boundaries.size(), 3u);
  EXPECT_EQ(p.layout.boundaries[1].kind, CheckpointKind::message_end);     // the query itself
  EXPECT_EQ(p.layout.boundaries[2].kind, CheckpointKind::user_query_end);  // the system message after it
  // The next query's prompt keeps everything up to there and diverges after "<|im_start|>assistant\n".
  r.messages.push_back(tool_turn_as_sent_back());
  r.messages.push_back(message(api::Role::user, {tool_result("toolu_1", "a.txt\nb.txt")}));
  r.messages.push_back(final_turn_as_sent_back());
  r.messages.push_back(message(api::Role::user, {text("Now count the lines.")}));
  Tokens anchor(p.tokens.begin(), p.tokens.begin() + p.layout.boundaries[2].position);
  Tokens shared = concat(anchor, tokenizer().encode("<|im_start|>assistant\n"));
  Tokens next = render(r).tokens;
  EXPECT_TRUE(is_prefix(shared, next));
  EXPECT_FALSE(is_prefix(concat(shared, tokenizer().encode("<think>")), next));
}

TEST(GenerationEndRule, TurnEndingInToolCallsIsReRenderedAsGeneratedSoItsStateIsAPrefixOfTheNextPrompt) {
  api::MessagesRequest r = first_request();
  Prompt p1 = render(r);
  Tokens generated = tokenizer().encode(kToolTurnOutput);
  ASSERT_TRUE(generation_end_worth_saving({GenerationStop::end_of_turn, 1, false}));

  r.messages.push_back(tool_turn_as_sent_back());
  r.messages.push_back(message(api::Role::user, {tool_result("toolu_1", "a.txt\nb.txt")}));
  Prompt p2 = render(r);
  EXPECT_TRUE(is_prefix(concat(p1.tokens, generated), p2.tokens));
}

TEST(GenerationEndRule, TurnWithoutToolCallsLosesItsReasoningOnceTheNextQueryArrives) {
  api::MessagesRequest r = first_request();
  r.messages.push_back(tool_turn_as_sent_back());
  r.messages.push_back(message(api::Role::user, {tool_result("toolu_1", "a.txt\nb.txt")}));
  Prompt p2 = render(r);
  Tokens generated = tokenizer().encode(kFinalTurnOutput);
  ASSERT_FALSE(generation_end_worth_saving({GenerationStop::end_of_turn, 0, false}));
  Prompt p1 = render(first_request());
  int64_t query_end = position_of(p1.layout, CheckpointKind::user_query_end);
  ASSERT_GT(query_end, 0);

  r.messages.push_back(final_turn_as_sent_back());
  r.messages.push_back(message(api::Role::user, {text("Now count the lines.")}));
  Prompt p3 = render(r);
  // Neither end-of-generation state survives: the whole agent loop since the first query is rendered
  // again without its reasoning...
  EXPECT_FALSE(is_prefix(concat(p2.tokens, generated), p3.tokens));
  EXPECT_FALSE(is_prefix(concat(p1.tokens, tokenizer().encode(kToolTurnOutput)), p3.tokens));
  // ...so the next prompt resumes at the end of the previous query, which is a prefix of it, and
  // diverges right after the following "<|im_start|>assistant\n".
  Tokens up_to_query(p1.tokens.begin(), p1.tokens.begin() + query_end);
  EXPECT_TRUE(is_prefix(up_to_query, p3.tokens));
  Tokens assistant_header = tokenizer().encode("<|im_start|>assistant\n");
  Tokens shared = concat(up_to_query, assistant_header);
  EXPECT_TRUE(is_prefix(shared, p3.tokens));
  EXPECT_TRUE(is_prefix(shared, p2.tokens));
  EXPECT_NE(p3.tokens[shared.size()], p2.tokens[shared.size()]);
}

TEST(GenerationEndRule, PreserveThinkingKeepsEveryTurnAsGenerated) {
  chat::RenderOptions preserve;
  preserve.preserve_thinking = true;
  api::MessagesRequest r = first_request();
  r.messages.push_back(tool_turn_as_sent_back());
  r.messages.push_back(message(api::Role::user, {tool_result("toolu_1", "a.txt\nb.txt")}));
  Prompt p2 = render(r, preserve);
  Tokens generated = tokenizer().encode(kFinalTurnOutput);
  ASSERT_TRUE(generation_end_worth_saving({GenerationStop::end_of_turn, 0, true}));
  r.messages.push_back(final_turn_as_sent_back());
  r.messages.push_back(message(api::Role::user, {text("Now count the lines.")}));
  EXPECT_TRUE(is_prefix(concat(p2.tokens, generated), render(r, preserve).tokens));
}

TEST(GenerationEndRule, WithThinkingOffAToolTurnIsStillReRenderedAsGenerated) {
  chat::RenderOptions no_thinking;
  no_thinking.enable_thinking = false;
  api::MessagesRequest r = first_request();
  Prompt p1 = render(r, no_thinking);
  // After "<think>\n\n</think>\n\n" the model writes its answer directly.
  Tokens generated = tokenizer().encode(
      "Let me look.\n\n<tool_call>\n<function=Bash>\n<parameter=command>\nls -la\n</parameter>\n</function>\n</tool_call>");
  r.messages.push_back(message(api::Role::assistant, {text("Let me look."),
                                                      tool_use("toolu_1", "Bash", api::Json::parse(R"({"command":"ls -la"})"))}));
  r.messages.push_back(message(api::Role::user, {tool_result("toolu_1", "a.txt\nb.txt")}));
  EXPECT_TRUE(is_prefix(concat(p1.tokens, generated), render(r, no_thinking).tokens));
}

}  // namespace
}  // namespace hearth::cache
