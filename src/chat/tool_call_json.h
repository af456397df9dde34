#pragma once
// Qwen3-style JSON tool calls (`<tool_call>\n{"name": ..., "arguments": {...}}\n</tool_call>`) and JSON
// bodies inside an XML <function=NAME> block: finding where the JSON value ends in a stream, and reading
// the calls out of it.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/types.h"

namespace hearth::chat {

// Follows a JSON value that starts with '{' or '[' byte by byte and says when it is complete. It tracks
// only nesting and strings (not full validity); the JSON parser judges the text once it is complete.
class JsonExtent {
 public:
  enum class Status { more, complete };
  Status feed(char c);
  bool in_string() const { return in_string_; }
  // The closing brackets an unfinished value still needs (innermost first), for a value the model
  // closed with </tool_call> one bracket too early.
  std::string missing_closers() const { return std::string(closers_.rbegin(), closers_.rend()); }
  void reset() { *this = JsonExtent(); }

 private:
  std::string closers_;  // expected closing brackets, outermost first
  bool in_string_ = false;
  bool escaped_ = false;
  bool started_ = false;
};

struct JsonToolCall {
  std::string name;
  api::Json arguments = api::Json::object();
};

// Reads one call object, or an array of them, from `text`. A call is {"name": NAME, "arguments": ARGS}
// where ARGS may also be spelled "parameters" or "input", may be a string holding a JSON object (the
// OpenAI convention), or may be absent ({}); {"function": {...}} wrapping is accepted too.
// Returns nullopt when the text is not JSON or not shaped like calls.
std::optional<std::vector<JsonToolCall>> parse_json_tool_calls(std::string_view text);

}  // namespace hearth::chat
