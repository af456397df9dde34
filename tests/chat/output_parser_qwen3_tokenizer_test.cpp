// The output parser on ids from the real Qwen3 tokenizer (tests find it through
// HEARTH_TEST_TOKENIZER_DIR): tags as their added-token ids, the same tags spelled out in ordinary
// tokens, and characters that byte-level BPE splits over several tokens.
#include <gtest/gtest.h>

#include <algorithm>

#include "chat/output_parser.h"
#include "chat/tokenizer.h"
#include "output_parser_invariants.h"
#include "output_parser_tools.h"
#include "util/utf8.h"

namespace hearth::chat {
namespace {

using parser_test::bash_tool;

std::shared_ptr<const Tokenizer> qwen3() {
  static const auto t = Tokenizer::load(HEARTH_TEST_TOKENIZER_DIR);
  return t;
}

struct Parsed {
  std::vector<std::pair<BlockKind, std::string>> blocks;  // a tool_use entry: its name, then its input
  std::string violation;
};

Parsed parse(const std::vector<Token>& ids, const ParserOptions& options) {
  OutputParser parser(*qwen3(), options);
  parser_test::EventChecker checker({"Bash"}, options.emit_thinking);
  Parsed out;
  auto take = [&](const std::vector<ContentEvent>& events) {
    checker.add(events);
    for (const ContentEvent& e : events) {
      if (e.type == EventType::block_start) out.blocks.emplace_back(e.kind, e.tool_name);
      if (e.type == EventType::block_delta) out.blocks.back().second += e.text;
    }
  };
  for (Token id : ids) take(parser.push(id));
  take(parser.finish());
  out.violation = checker.finish(parser.tool_calls());
  return out;
}

// Encodes `text` piece by piece, so that no piece boundary is crossed by a token; a tag cut in two
// pieces is then spelled out in ordinary tokens instead of being one added token.
std::vector<Token> encode_pieces(const std::vector<std::string>& pieces) {
  std::vector<Token> ids;
  for (const auto& p : pieces) {
    auto part = qwen3()->encode(p);
    ids.insert(ids.end(), part.begin(), part.end());
  }
  return ids;
}

const std::string kTurn =
    "<think>\nThe user wants the files; 中文 ok 😀.\n</think>\n\nListing them.\n\n<tool_call>\n<function=Bash>\n"
    "<parameter=command>\nls -la 😀\n</parameter>\n<parameter=timeout>\n30\n</parameter>\n</function>\n</tool_call>";

const std::vector<std::pair<BlockKind, std::string>> kExpected = {
    {BlockKind::thinking, "The user wants the files; 中文 ok 😀."},
    {BlockKind::text, "Listing them."},
    {BlockKind::tool_use, "Bash{\"command\":\"ls -la 😀\",\"timeout\":30}"},
};

TEST(OutputParserQwen3Tokenizer, TagsArriveAsAddedTokenIds) {
  const auto ids = qwen3()->encode(kTurn);
  ASSERT_NE(std::find(ids.begin(), ids.end(), *qwen3()->token_id("<tool_call>")), ids.end());
  ASSERT_NE(std::find(ids.begin(), ids.end(), *qwen3()->token_id("</think>")), ids.end());
  Parsed p = parse(ids, bash_tool());
  EXPECT_EQ(p.violation, "");
  EXPECT_EQ(p.blocks, kExpected);
}

TEST(OutputParserQwen3Tokenizer, TagsSpelledOutInOrdinaryTokensParseTheSame) {
  const auto ids = encode_pieces({"<thi", "nk>\nThe user wants the files; 中文 ok 😀.\n</", "think>\n\nListing them.\n\n<tool",
                                  "_call>\n<function=Bash>\n<parameter=command>\nls -la 😀\n</parameter>\n<parameter=timeout>\n30\n</"
                                  "parameter>\n</function>\n</tool_",
                                  "call>"});
  for (std::string_view tag : {"<think>", "</think>", "<tool_call>", "</tool_call>"})
    ASSERT_EQ(std::find(ids.begin(), ids.end(), *qwen3()->token_id(tag)), ids.end()) << tag;
  Parsed p = parse(ids, bash_tool());
  EXPECT_EQ(p.violation, "");
  EXPECT_EQ(p.blocks, kExpected);
}

TEST(OutputParserQwen3Tokenizer, CharactersSplitOverSeveralTokensAreNeverSplitInEvents) {
  // Rare CJK and emoji are several byte-level tokens each in Qwen3's vocabulary.
  const std::string text = "龘𠜎😀🧬";
  const auto ids = qwen3()->encode(text);
  ASSERT_GT(ids.size(), 4u) << "the test needs characters that span tokens";
  OutputParser parser(*qwen3(), {});
  std::string seen;
  for (Token id : ids)
    for (const auto& e : parser.push(id)) {
      EXPECT_TRUE(utf8::is_valid(e.text));
      seen += e.text;
    }
  for (const auto& e : parser.finish()) seen += e.text;
  EXPECT_EQ(seen, text);
}

}  // namespace
}  // namespace hearth::chat
