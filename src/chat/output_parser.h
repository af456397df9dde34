#pragma once
// Streaming output parser: generated token ids in, content-block events out. Recognises <think> blocks,
// Qwen3-Coder XML tool calls and Qwen3 JSON tool calls (either shape with either model family, also
// inside <think>), converting XML parameter values to the JSON types the tool's input_schema declares.
// Holds back only as much text as could still turn out to be markup, and never splits a UTF-8 character.
//
// What callers see (details and reasons in output_parser.cpp and output_parser_blocks.h):
// - Text and thinking blocks are trimmed of surrounding whitespace, as the chat template trims them when
//   it renders the turn back; whitespace-only blocks are never emitted.
// - A tool_use block starts once the function name is read and known; string parameters stream as JSON
//   string fragments, typed ones arrive whole when their value ends. The deltas of a block always
//   concatenate to one JSON object.
// - A call to an unknown tool, or one that cannot be read, is reported verbatim as text.
// - Text after a tool call stays text (Claude Code accepts and shows it).
#include <memory>
#include <string>
#include <vector>

#include "api/types.h"
#include "util/content_events.h"
#include "chat/tokenizer.h"

namespace hearth::chat {

struct ParserOptions {
  std::vector<api::Tool> tools;         // names (unknown names are reported as text) and schemas
  bool emit_thinking = true;            // false: <think> content is dropped (the seed proxy's behaviour)
  bool starts_in_thinking = false;      // the prompt ended with "<think>\n"
};

class OutputParser {
 public:
  OutputParser(const Tokenizer& tokenizer, ParserOptions options);
  ~OutputParser();
  OutputParser(const OutputParser&) = delete;
  OutputParser& operator=(const OutputParser&) = delete;

  // Feeds one generated token; returns the events it completes (possibly none).
  std::vector<ContentEvent> push(Token id);
  // End of generation: flushes held text, closes open blocks (a tool call missing its closing tags is
  // completed if its JSON can be; otherwise its raw text is reported as text).
  std::vector<ContentEvent> finish();
  // Number of complete tool_use blocks emitted so far.
  int tool_calls() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hearth::chat
