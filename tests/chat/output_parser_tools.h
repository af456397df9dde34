#pragma once
// Tool definitions the output parser tests share: a tool from a name and its input_schema properties,
// and the one-tool (Bash: command string, timeout integer) options several tests parse against.
#include <string>
#include <utility>

#include "api/types.h"
#include "chat/output_parser.h"

namespace hearth::chat::parser_test {

inline api::Tool make_tool(std::string name, api::Json properties) {
  api::Tool t;
  t.name = std::move(name);
  t.input_schema = {{"type", "object"}, {"properties", std::move(properties)}};
  return t;
}

inline ParserOptions bash_tool() {
  ParserOptions o;
  o.tools.push_back(make_tool("Bash", {{"command", {{"type", "string"}}}, {"timeout", {{"type", "integer"}}}}));
  return o;
}

}  // namespace hearth::chat::parser_test
