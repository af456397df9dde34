#pragma once
// What the output parser produces from the model's token stream: content-block events, free of any wire
// format. api/ turns them into Anthropic JSON or SSE.
#include <string>

namespace hearth::chat {

enum class BlockKind { text, thinking, tool_use };

enum class EventType {
  block_start,  // kind; for tool_use also tool_name
  block_delta,  // text: text / thinking text / a fragment of the tool input JSON
  block_end,
};

struct OutputEvent {
  EventType type = EventType::block_delta;
  BlockKind kind = BlockKind::text;
  std::string text;
  std::string tool_name;  // block_start of tool_use
};

}  // namespace hearth::chat
