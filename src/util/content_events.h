#pragma once
// What a generated message consists of: content-block events, free of any wire format and of token ids.
// chat/ produces them (the output parser, from the model's token stream), serve/ carries them from the
// scheduler to the request, api/ turns them into Anthropic JSON or SSE. They live here, in neither layer,
// so that api/ does not depend on chat/ and chat/ does not depend on api/ (shared/DESIGN.md).
#include <string>

namespace hearth {

enum class BlockKind { text, thinking, tool_use };

enum class EventType {
  block_start,  // kind; for tool_use also tool_name
  block_delta,  // text: text / thinking text / a fragment of the tool input JSON
  block_end,
};

struct ContentEvent {
  EventType type = EventType::block_delta;
  BlockKind kind = BlockKind::text;
  std::string text;
  std::string tool_name;  // block_start of tool_use
};

}  // namespace hearth
