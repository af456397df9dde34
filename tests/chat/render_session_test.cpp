// The append-only property over a recorded Claude Code agent session (testdata/chat/claude_session.jsonl,
// recorded by tests/e2e/record-claude-session.mjs: two CLI runs of one conversation; run 1 is a tool loop
// Write → Bash → final text, run 2 (--continue) a new user query with two parallel tool calls).
//
// Property: the prompt of request N+1 begins with the prompt of request N up to the end of N's messages
// (its last boundary), so the prompt cache can resume N+1 from N's state. The one named exception: at the
// request that brings a new user query, the Qwen3.5 (and Qwen3) formats drop the reasoning of earlier
// assistant turns, which rewrites the prompt from the first such turn. Qwen3.6 with preserve_thinking
// keeps it, and is append-only throughout.
#include <gtest/gtest.h>

#include "chat/anthropic_mapping.h"
#include "render_test_util.h"

namespace hearth::chat {
namespace {

using api::Json;

// The request of the session that carries a new user query (run 2's prompt), by index.
constexpr size_t kNewUserQueryRequest = 3;

const std::vector<Json>& session() {
  static const std::vector<Json> requests = testing::read_jsonl(testing::testdata("chat/claude_session.jsonl"));
  return requests;
}

std::vector<RenderedPrompt> render_session(ChatFormat format, RenderOptions options = {}) {
  std::vector<RenderedPrompt> out;
  for (const auto& request : session()) out.push_back(testing::render_parsed(format, request, options));
  return out;
}

std::string_view messages_part(const RenderedPrompt& p) {
  return std::string_view(p.text).substr(0, p.boundaries.back());
}

bool last_user_message_is_only_tool_results(const Json& request) {
  for (auto it = request["messages"].rbegin(); it != request["messages"].rend(); ++it) {
    if ((*it)["role"] != "user") continue;
    const Json& content = (*it)["content"];
    if (content.is_string()) return false;
    for (const auto& block : content) {
      if (block["type"] != "tool_result") return false;
    }
    return true;
  }
  return false;
}

TEST(ClaudeSessionFixture, IsAMultiTurnClaudeCodeSessionWithTheShapesTheTestsNeed) {
  const auto& s = session();
  ASSERT_EQ(s.size(), 5u);
  for (size_t n = 1; n < s.size(); ++n) {
    EXPECT_EQ(!last_user_message_is_only_tool_results(s[n]), n == kNewUserQueryRequest)
        << "request " << n << ": only request " << kNewUserQueryRequest << " brings a new user query";
  }
  const Json& first = s[0];
  EXPECT_TRUE(is_billing_header_block(first["system"][0]["text"].get<std::string>()));
  EXPECT_EQ(first["messages"][1]["role"], "system") << "an in-place system message after the first user turn";
  // Claude Code sends that message as text blocks first and as a plain string afterwards.
  EXPECT_TRUE(first["messages"][1]["content"].is_array());
  EXPECT_TRUE(s[1]["messages"][1]["content"].is_string());
  EXPECT_EQ(s[1]["messages"][2]["content"][0]["type"], "thinking");
  EXPECT_FALSE(s[1]["messages"][2]["content"][0]["signature"].get<std::string>().empty());
  EXPECT_GE(s[4]["tools"].size(), 10u);
}

void expect_append_only(const std::vector<RenderedPrompt>& prompts, bool except_new_query) {
  for (size_t n = 0; n + 1 < prompts.size(); ++n) {
    const bool extends = std::string_view(prompts[n + 1].text).starts_with(messages_part(prompts[n]));
    if (except_new_query && n + 1 == kNewUserQueryRequest) {
      EXPECT_FALSE(extends) << "request " << n + 1 << " drops past reasoning, so it cannot extend request " << n;
    } else {
      EXPECT_TRUE(extends) << "request " << n + 1 << " does not begin with request " << n << "'s messages: "
                           << testing::first_difference(messages_part(prompts[n]), prompts[n + 1].text);
    }
  }
}

// Where request kNewUserQueryRequest diverges from the one before it: at the first assistant turn that
// had reasoning, whose <think> block the format now leaves out.
void expect_divergence_is_the_dropped_reasoning(const std::vector<RenderedPrompt>& prompts) {
  const std::string& before = prompts[kNewUserQueryRequest - 1].text;
  const std::string& after = prompts[kNewUserQueryRequest].text;
  size_t d = 0;
  while (d < before.size() && d < after.size() && before[d] == after[d]) ++d;
  const size_t first_assistant = before.find("<|im_start|>assistant\n");
  ASSERT_NE(first_assistant, std::string::npos);
  EXPECT_EQ(d, first_assistant + std::string_view("<|im_start|>assistant\n").size());
  EXPECT_TRUE(std::string_view(before).substr(d).starts_with("<think>\nThe user wants a file"));
  EXPECT_TRUE(std::string_view(after).substr(d).starts_with("I'll create the file."));
}

TEST(ClaudeSessionAppendOnly, Qwen35ExtendsEachRequestExceptWhereANewUserQueryDropsPastReasoning) {
  const auto prompts = render_session(ChatFormat::qwen3_5);
  expect_append_only(prompts, /*except_new_query=*/true);
  expect_divergence_is_the_dropped_reasoning(prompts);
}

TEST(ClaudeSessionAppendOnly, Qwen36WithPreserveThinkingExtendsEveryRequest) {
  RenderOptions preserve;
  preserve.preserve_thinking = true;
  expect_append_only(render_session(ChatFormat::qwen3_5, preserve), /*except_new_query=*/false);
}

TEST(ClaudeSessionAppendOnly, Qwen3ExtendsEachRequestExceptWhereANewUserQueryDropsPastReasoning) {
  const auto prompts = render_session(ChatFormat::qwen3);
  expect_append_only(prompts, /*except_new_query=*/true);
  expect_divergence_is_the_dropped_reasoning(prompts);
}

TEST(ClaudeSessionAppendOnly, WithThinkingOnTheGenerationPromptIsWhereTheNextRequestsAssistantTurnStarts) {
  // Stronger than the message-boundary property: inside a tool loop the whole prompt of request N,
  // generation prompt included, begins request N+1 (the assistant turn continues where the model began).
  for (bool preserve : {false, true}) {
    RenderOptions options;
    options.preserve_thinking = preserve;
    const auto prompts = render_session(ChatFormat::qwen3_5, options);
    for (size_t n = 0; n + 1 < prompts.size(); ++n) {
      if (!preserve && n + 1 == kNewUserQueryRequest) continue;
      EXPECT_TRUE(prompts[n + 1].text.starts_with(prompts[n].text)) << "request " << n + 1 << ", preserve " << preserve;
    }
  }
}

TEST(ClaudeSessionAppendOnly, ABillingHeaderThatChangesOnEveryRequestLeavesThePromptsUnchanged) {
  for (size_t n = 0; n < session().size(); ++n) {
    Json changed = session()[n];
    changed["system"][0]["text"] = "x-anthropic-billing-header: cc_version=2.1.332.a" + std::to_string(n) +
                                   "c; cc_entrypoint=sdk-cli; cch=" + std::to_string(10000 + 7 * n) + ";";
    const auto original = testing::render_parsed(ChatFormat::qwen3_5, session()[n]);
    const auto rendered = testing::render_parsed(ChatFormat::qwen3_5, changed);
    EXPECT_EQ(rendered.text, original.text) << "request " << n;
    EXPECT_EQ(rendered.text.find("x-anthropic-billing-header"), std::string::npos);
  }
}

TEST(ClaudeSessionAppendOnly, InPlaceSystemMessageStaysRightAfterTheFirstUserTurn) {
  for (const auto& p : render_session(ChatFormat::qwen3_5)) {
    // Boundaries: [0] tools + system prefix, [1] the first user turn, [2] the in-place system turn.
    ASSERT_GE(p.boundaries.size(), 3u);
    const std::string_view third_turn =
        std::string_view(p.text).substr(p.boundaries[1], p.boundaries[2] - p.boundaries[1]);
    EXPECT_TRUE(third_turn.starts_with("<|im_start|>system\n[Claude Code text removed: ")) << third_turn;
    EXPECT_TRUE(std::string_view(p.text).substr(0, p.boundaries[1]).ends_with("MARKER_ONE: create hello.txt "
                                                                               "containing a greeting, then show "
                                                                               "it with cat.<|im_end|>\n"));
  }
}

}  // namespace
}  // namespace hearth::chat
