#pragma once
// Checks that an output parser event stream is well formed, the contract api/ relies on when it writes
// SSE: one block open at a time, every delta inside an open block of its kind, no empty deltas, valid
// UTF-8 everywhere, text/thinking blocks non-empty and trimmed, tool_use blocks naming a known tool
// with deltas that concatenate to a JSON object. Shared by the unit tests and the fuzz target.
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/content_events.h"
#include "util/utf8.h"

namespace hearth::chat::parser_test {

class EventChecker {
 public:
  EventChecker(std::set<std::string> tool_names, bool emit_thinking)
      : tool_names_(std::move(tool_names)), emit_thinking_(emit_thinking) {}

  // Returns the first violation found, or an empty string.
  std::string add(const std::vector<ContentEvent>& events) {
    for (const ContentEvent& e : events) {
      std::string err = add_one(e);
      if (!err.empty() && error_.empty()) error_ = err;
    }
    return error_;
  }
  // After finish(): nothing may stay open; `tool_calls` is the parser's count.
  std::string finish(int tool_calls) {
    if (error_.empty() && open_) error_ = "a block is still open after finish()";
    if (error_.empty() && tool_calls != tool_blocks_)
      error_ = "tool_calls() is " + std::to_string(tool_calls) + " but " + std::to_string(tool_blocks_) +
               " tool_use blocks ended";
    return error_;
  }

 private:
  static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

  std::string add_one(const ContentEvent& e) {
    if (!utf8::is_valid(e.text)) return "invalid UTF-8 in an event";
    if (!utf8::is_valid(e.tool_name)) return "invalid UTF-8 in a tool name";
    if (e.kind == BlockKind::thinking && !emit_thinking_) return "thinking event with thinking output off";
    switch (e.type) {
      case EventType::block_start:
        if (open_) return "block_start while a block is open";
        if (!e.text.empty()) return "block_start carries text";
        if (e.kind == BlockKind::tool_use) {
          if (!tool_names_.count(e.tool_name)) return "tool_use for unknown tool '" + e.tool_name + "'";
        } else if (!e.tool_name.empty()) {
          return "tool_name on a non-tool block";
        }
        open_ = e.kind;
        content_.clear();
        return {};
      case EventType::block_delta:
        if (!open_) return "delta outside any block";
        if (*open_ != e.kind) return "delta of another kind than the open block";
        if (e.text.empty()) return "empty delta";
        content_ += e.text;
        return {};
      case EventType::block_end:
        if (!open_) return "block_end without an open block";
        if (*open_ != e.kind) return "block_end of another kind than the open block";
        open_.reset();
        if (e.kind == BlockKind::tool_use) {
          ++tool_blocks_;
          auto v = nlohmann::json::parse(content_, nullptr, false);
          if (v.is_discarded() || !v.is_object()) return "tool input is not a JSON object: " + content_;
        } else {
          if (content_.empty()) return "empty text/thinking block";
          if (is_space(content_.front()) || is_space(content_.back())) return "block not trimmed";
        }
        return {};
    }
    return "unknown event type";
  }

  std::set<std::string> tool_names_;
  bool emit_thinking_;
  std::optional<BlockKind> open_;
  std::string content_;
  int tool_blocks_ = 0;
  std::string error_;
};

}  // namespace hearth::chat::parser_test
