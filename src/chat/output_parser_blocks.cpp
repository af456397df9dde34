#include "chat/output_parser_blocks.h"

#include <algorithm>

#include "chat/json_typing.h"
#include "chat/output_parser_scan.h"

namespace hearth::chat {

void BlockStream::emit(EventType type, BlockKind kind, std::string text, std::string tool_name) {
  ContentEvent e;
  e.type = type;
  e.kind = kind;
  e.text = std::move(text);
  e.tool_name = std::move(tool_name);
  out_.push_back(std::move(e));
}

void BlockStream::content(BlockKind kind, std::string_view s) {
  if (s.empty()) return;
  if (kind == BlockKind::thinking && !emit_thinking_) return;
  std::string text;
  if (open_ && open_kind_ == kind) {
    if (std::all_of(s.begin(), s.end(), is_space)) {  // only more to hold (keeps long runs linear)
      held_space_.append(s);
      return;
    }
    text = std::move(held_space_);
    held_space_.clear();
    text.append(s);
  } else {
    size_t b = 0;
    while (b < s.size() && is_space(s[b])) ++b;
    if (b == s.size()) return;  // nothing yet: no block opens for whitespace
    close();
    emit(EventType::block_start, kind);
    open_ = true;
    open_kind_ = kind;
    text.assign(s.substr(b));
  }
  size_t e = text.size();
  while (e > 0 && is_space(text[e - 1])) --e;
  held_space_.assign(text, e, std::string::npos);
  text.resize(e);
  if (!text.empty()) emit(EventType::block_delta, kind, std::move(text));
}

void BlockStream::close() {
  if (!open_) return;
  held_space_.clear();
  emit(EventType::block_end, open_kind_);
  open_ = false;
}

void BlockStream::close_if(BlockKind kind) {
  if (open_ && open_kind_ == kind) close();
}

void BlockStream::tool_begin(const std::string& name) {
  close();
  emit(EventType::block_start, BlockKind::tool_use, {}, name);
  open_ = true;
  open_kind_ = BlockKind::tool_use;
}

void BlockStream::tool_delta(std::string_view s) {
  if (!s.empty()) emit(EventType::block_delta, BlockKind::tool_use, std::string(s));
}

void BlockStream::tool_end() { close(); }

void ToolInputWriter::begin(const std::string& tool_name) {
  keys_.clear();
  blocks_.tool_begin(tool_name);
  blocks_.tool_delta("{");
}

bool ToolInputWriter::member(std::string_view key) {
  if (key.empty() || !keys_.insert(std::string(key)).second) return false;
  std::string json = keys_.size() > 1 ? ",\"" : "\"";
  append_json_escaped(json, key);
  json += "\":";
  blocks_.tool_delta(json);
  return true;
}

void ToolInputWriter::end() {
  blocks_.tool_delta("}");
  blocks_.tool_end();
  keys_.clear();
}

}  // namespace hearth::chat
