#pragma once
// The output side of the parser: opens and closes content blocks so that the event sequence is always
// well formed (one block open at a time, every delta inside it), and builds tool input JSON objects as a
// stream of fragments.
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "util/content_events.h"

namespace hearth::chat {

// Text and thinking blocks carry their content trimmed of surrounding whitespace, as the chat template
// trims both when it renders the turn back (`content|trim`, `reasoning_content|trim`): the newline after
// <think>, the "\n\n" after </think> and before <tool_call> are formatting. So a block opens only on its
// first non-space character (whitespace-only blocks never appear), and trailing whitespace is held until
// more content follows; closing drops it.
class BlockStream {
 public:
  BlockStream(std::vector<ContentEvent>& out, bool emit_thinking) : out_(out), emit_thinking_(emit_thinking) {}

  // Content of a text or thinking block; closes a block of another kind first when `s` has any
  // non-space content. Thinking content is discarded when thinking output is off.
  void content(BlockKind kind, std::string_view s);
  void close();
  void close_if(BlockKind kind);

  void tool_begin(const std::string& name);
  void tool_delta(std::string_view s);
  void tool_end();

 private:
  void emit(EventType type, BlockKind kind, std::string text = {}, std::string tool_name = {});

  std::vector<ContentEvent>& out_;
  bool emit_thinking_;
  bool open_ = false;
  BlockKind open_kind_ = BlockKind::text;
  std::string held_space_;
};

// The input object of one tool_use block, written as it streams: "{", then members, then "}".
class ToolInputWriter {
 public:
  explicit ToolInputWriter(BlockStream& blocks) : blocks_(blocks) {}
  void begin(const std::string& tool_name);
  // Starts member `key` (writes `"key":`); false (and nothing written) for a repeated or empty key:
  // the first value of a key wins, since what was streamed cannot be taken back.
  bool member(std::string_view key);
  bool has(std::string_view key) const { return keys_.count(std::string(key)) != 0; }
  bool has_members() const { return !keys_.empty(); }
  // Raw JSON text of the current member's value (whole or a fragment).
  void value(std::string_view json) { blocks_.tool_delta(json); }
  void end();

 private:
  BlockStream& blocks_;
  std::unordered_set<std::string> keys_;
};

}  // namespace hearth::chat
