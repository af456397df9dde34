#pragma once
// Runs the output parser over a text fed in several tokenizations (special tokens, one byte per token,
// random chunks) and collapses the events into blocks, checking the event invariants on the way. A
// parser result must not depend on how the model's tokens happened to split the text.
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "chat/output_parser.h"
#include "output_parser_fake_tokenizer.h"
#include "output_parser_invariants.h"

namespace hearth::chat::parser_test {

struct Block {
  BlockKind kind = BlockKind::text;
  std::string name;     // tool_use
  std::string content;  // concatenated deltas
  bool operator==(const Block&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const Block& b) {
  const char* kind = b.kind == BlockKind::text ? "text" : b.kind == BlockKind::thinking ? "thinking" : "tool_use";
  os << "{" << kind;
  if (!b.name.empty()) os << " " << b.name;
  return os << ": " << ::testing::PrintToString(b.content) << "}";
}

inline Block text_block(std::string s) { return Block{BlockKind::text, "", std::move(s)}; }
inline Block thinking_block(std::string s) { return Block{BlockKind::thinking, "", std::move(s)}; }
inline Block tool_block(std::string name, std::string json) { return Block{BlockKind::tool_use, std::move(name), std::move(json)}; }

enum class Feed { specials, bytes, chunks };

struct ParseRun {
  std::vector<Block> blocks;
  std::vector<std::vector<ContentEvent>> per_push;  // events returned by each push (finish last)
  std::vector<std::string> pushed;                 // the piece of each push
  int tool_calls = 0;
  std::string violation;
};

inline std::vector<Token> tokenize(FakeTokenizer& tok, const std::string& text, Feed feed, unsigned seed) {
  std::vector<Token> ids;
  switch (feed) {
    case Feed::specials: return tok.encode(text);
    case Feed::bytes:
      for (char c : text) ids.push_back(static_cast<unsigned char>(c));
      return ids;
    case Feed::chunks: {
      std::mt19937 rng(seed);
      std::uniform_int_distribution<size_t> len(1, 9);
      for (size_t i = 0; i < text.size();) {
        const size_t n = std::min(len(rng), text.size() - i);
        ids.push_back(tok.intern(text.substr(i, n)));
        i += n;
      }
      return ids;
    }
  }
  return ids;
}

inline std::set<std::string> tool_names(const ParserOptions& options) {
  std::set<std::string> names;
  for (const auto& t : options.tools) names.insert(t.name);
  return names;
}

inline void collect(std::vector<Block>& blocks, const std::vector<ContentEvent>& events) {
  for (const ContentEvent& e : events) {
    if (e.type == EventType::block_start) blocks.push_back(Block{e.kind, e.tool_name, ""});
    if (e.type == EventType::block_delta && !blocks.empty()) blocks.back().content += e.text;
  }
}

inline ParseRun run_ids(FakeTokenizer& tok, const std::vector<Token>& ids, const ParserOptions& options) {
  ParseRun run;
  OutputParser parser(tok, options);
  EventChecker checker(tool_names(options), options.emit_thinking);
  for (Token id : ids) {
    run.per_push.push_back(parser.push(id));
    run.pushed.push_back(tok.token_bytes(id));
    checker.add(run.per_push.back());
    collect(run.blocks, run.per_push.back());
  }
  run.per_push.push_back(parser.finish());
  checker.add(run.per_push.back());
  collect(run.blocks, run.per_push.back());
  run.tool_calls = parser.tool_calls();
  run.violation = checker.finish(run.tool_calls);
  return run;
}

inline ParseRun run_text(const std::string& text, const ParserOptions& options, Feed feed = Feed::specials,
                    unsigned seed = 1) {
  FakeTokenizer tok;
  return run_ids(tok, tokenize(tok, text, feed, seed), options);
}

// Parses `text` in every tokenization and expects `expected` from each, with valid event streams.
inline void expect_blocks(const std::string& text, const ParserOptions& options, const std::vector<Block>& expected) {
  struct Variant {
    Feed feed;
    unsigned seed;
    const char* name;
  };
  const Variant variants[] = {{Feed::specials, 0, "special tokens"}, {Feed::bytes, 0, "one byte per token"},
                              {Feed::chunks, 1, "chunks seed 1"},    {Feed::chunks, 2, "chunks seed 2"},
                              {Feed::chunks, 3, "chunks seed 3"},    {Feed::chunks, 4, "chunks seed 4"}};
  for (const Variant& v : variants) {
    SCOPED_TRACE(v.name);
    const ParseRun run = run_text(text, options, v.feed, v.seed);
    EXPECT_EQ(run.violation, "");
    EXPECT_EQ(run.blocks, expected);
    int tool_blocks = 0;
    for (const Block& b : expected) tool_blocks += b.kind == BlockKind::tool_use;
    EXPECT_EQ(run.tool_calls, tool_blocks);
  }
}

}  // namespace hearth::chat::parser_test
