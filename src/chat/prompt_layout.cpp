#include "chat/prompt_layout.h"

#include <string_view>

namespace hearth::chat {
namespace {

constexpr std::string_view kSystemTurn = "<|im_start|>system\n";
constexpr std::string_view kUserTurn = "<|im_start|>user";
constexpr std::string_view kAssistantTurn = "<|im_start|>assistant";
constexpr std::string_view kImEnd = "<|im_end|>\n";

std::string_view strip(std::string_view s) {
  const std::string_view space = " \t\n\r\v\f";
  size_t first = s.find_first_not_of(space);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(space) - first + 1);
}

// A user turn that is not only tool responses: what the templates call a query.
bool is_user_query(std::string_view turn) {
  if (!turn.starts_with(kUserTurn)) return false;
  std::string_view content = turn.substr(kUserTurn.size());
  if (content.ends_with(kImEnd)) content.remove_suffix(kImEnd.size());
  content = strip(content);
  return !(content.starts_with("<tool_response>") && content.ends_with("</tool_response>"));
}

}  // namespace

cache::PromptLayout prompt_layout(const RenderedPrompt& prompt, std::span<const Token> tokens, const Tokenizer& tokenizer) {
  cache::PromptLayout layout;
  layout.prompt_tokens = static_cast<int64_t>(tokens.size());
  const std::string_view text = prompt.text;

  // Kinds by byte offset first.
  std::vector<cache::Boundary> by_byte;
  std::vector<bool> assistant;  // per boundary: it ends an assistant turn
  size_t turn_start = 0;
  int64_t last_query = -1;
  for (size_t i = 0; i < prompt.boundaries.size(); ++i) {
    size_t end = prompt.boundaries[i];
    if (end > text.size() || end <= turn_start) continue;
    std::string_view turn = text.substr(turn_start, end - turn_start);
    cache::CheckpointKind kind = cache::CheckpointKind::message_end;
    if (i == 0 && turn_start == 0 && turn.starts_with(kSystemTurn)) kind = cache::CheckpointKind::static_prefix;
    if (is_user_query(turn)) last_query = static_cast<int64_t>(by_byte.size());
    assistant.push_back(turn.starts_with(kAssistantTurn));
    by_byte.push_back({static_cast<int64_t>(end), kind});
    turn_start = end;
  }
  // The anchor is the end of the last query and of the non-assistant turns right after it (Claude Code
  // puts system messages there): once reasoning is dropped, the next prompt diverges at the first
  // assistant turn after them.
  if (last_query >= 0) {
    size_t anchor = static_cast<size_t>(last_query);
    while (anchor + 1 < by_byte.size() && !assistant[anchor + 1]) ++anchor;
    by_byte[anchor].kind = cache::CheckpointKind::user_query_end;
  }

  // Byte offsets to token positions.
  size_t next = 0;
  size_t bytes = 0;
  for (size_t t = 0; t < tokens.size() && next < by_byte.size(); ++t) {
    bytes += tokenizer.token_bytes(tokens[t]).size();
    while (next < by_byte.size() && static_cast<size_t>(by_byte[next].position) < bytes) ++next;  // inside a token
    if (next < by_byte.size() && static_cast<size_t>(by_byte[next].position) == bytes) {
      layout.boundaries.push_back({static_cast<int64_t>(t + 1), by_byte[next].kind});
      ++next;
    }
  }
  return layout;
}

}  // namespace hearth::chat
