// What the output parser emits at each push: text as soon as it cannot be markup, nothing that later
// turns out to be markup, string parameter values while they are still being generated.
#include <gtest/gtest.h>

#include "output_parser_test_util.h"
#include "output_parser_tools.h"

namespace hearth::chat::parser_test {
namespace {

// Concatenated deltas of one push's events.
std::string deltas(const std::vector<ContentEvent>& events) {
  std::string s;
  for (const auto& e : events)
    if (e.type == EventType::block_delta) s += e.text;
  return s;
}

ParseRun run_pieces(FakeTokenizer& tok, const std::vector<std::string>& pieces, const ParserOptions& options) {
  std::vector<Token> ids;
  for (const auto& p : pieces) ids.push_back(tok.intern(p));
  return run_ids(tok, ids, options);
}

TEST(OutputParserStreaming, TextIsEmittedAsSoonAsItCannotBeMarkup) {
  FakeTokenizer tok;
  const ParseRun run = run_pieces(tok, {"Hello", " 2 <", " 3", " a<", "b"}, {});
  ASSERT_EQ(run.violation, "");
  EXPECT_EQ(deltas(run.per_push[0]), "Hello");
  EXPECT_EQ(deltas(run.per_push[1]), " 2") << "'<' may start a tag: held";
  EXPECT_EQ(deltas(run.per_push[2]), " < 3") << "'< ' cannot: released";
  EXPECT_EQ(deltas(run.per_push[3]), " a");
  EXPECT_EQ(deltas(run.per_push[4]), "<b");
}

TEST(OutputParserStreaming, HeldTagPrefixThatBecomesAToolCallIsNeverEmittedAsText) {
  FakeTokenizer tok;
  const ParseRun run = run_pieces(tok, {"Look", " <", "tool", "_ca", "ll>\n<func", "tion=Bash>\n<para", "meter=command>\nls",
                                   "\n</parameter>\n</function>\n</tool_call>"},
                             bash_tool());
  ASSERT_EQ(run.violation, "");
  std::string text;
  for (const auto& events : run.per_push)
    for (const auto& e : events)
      if (e.kind == BlockKind::text && e.type == EventType::block_delta) text += e.text;
  EXPECT_EQ(text, "Look");
  EXPECT_EQ(run.blocks.back(), tool_block("Bash", R"({"command":"ls"})"));
}

TEST(OutputParserStreaming, ThinkingStreamsTokenByToken) {
  FakeTokenizer tok;
  const ParseRun run = run_pieces(tok, {"<think>", "\nfirst", " second", " third", "\n</think>"}, {});
  ASSERT_EQ(run.violation, "");
  EXPECT_EQ(deltas(run.per_push[1]), "first");
  EXPECT_EQ(deltas(run.per_push[2]), " second");
  EXPECT_EQ(deltas(run.per_push[3]), " third");
}

TEST(OutputParserStreaming, StringParameterValueStreamsBeforeItsClosingTag) {
  FakeTokenizer tok;
  const ParseRun run = run_pieces(tok, {"<tool_call>", "\n<function=Bash>", "\n<parameter=command>", "\necho", " \"hi\"",
                                   "\n", "echo bye", "\n", "</parameter>", "\n</function>", "\n</tool_call>"},
                             bash_tool());
  ASSERT_EQ(run.violation, "");
  ASSERT_FALSE(run.per_push[1].empty());
  EXPECT_EQ(run.per_push[1][0].type, EventType::block_start) << "the block opens once the name is known";
  EXPECT_EQ(run.per_push[1][0].tool_name, "Bash");
  EXPECT_EQ(deltas(run.per_push[2]), "\"command\":\"");
  EXPECT_EQ(deltas(run.per_push[3]), "echo");
  EXPECT_EQ(deltas(run.per_push[4]), " \\\"hi\\\"");
  EXPECT_EQ(deltas(run.per_push[5]), "") << "a newline may be the template's, before </parameter>";
  EXPECT_EQ(deltas(run.per_push[6]), "\\necho bye");
  EXPECT_EQ(deltas(run.per_push[8]), "\"") << "the held newline was formatting";
  EXPECT_EQ(run.blocks.back(), tool_block("Bash", "{\"command\":\"echo \\\"hi\\\"\\necho bye\"}"));
}

TEST(OutputParserStreaming, TypedParameterValueIsEmittedWhenComplete) {
  FakeTokenizer tok;
  const ParseRun run = run_pieces(tok, {"<tool_call>\n<function=Bash>\n<parameter=timeout>\n", "12", "0",
                                   "\n</parameter>", "\n</function>\n</tool_call>"},
                             bash_tool());
  ASSERT_EQ(run.violation, "");
  EXPECT_EQ(deltas(run.per_push[1]), "");
  EXPECT_EQ(deltas(run.per_push[3]), "\"timeout\":120");
}

TEST(OutputParserStreaming, ToolUseBlockEndsWhenTheFunctionCloses) {
  FakeTokenizer tok;
  const ParseRun run = run_pieces(tok, {"<tool_call>\n<function=Bash>\n</function>", "\n", "</tool_call>"}, bash_tool());
  ASSERT_EQ(run.violation, "");
  ASSERT_FALSE(run.per_push[0].empty());
  EXPECT_EQ(run.per_push[0].back().type, EventType::block_end);
  EXPECT_EQ(run.tool_calls, 1);
}

}  // namespace
}  // namespace hearth::chat::parser_test
