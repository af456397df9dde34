// Qwen3 chat format (JSON tool calls): what Qwen3's chat_template produces, reproduced step by step.
// Unlike Qwen3.5's, this template trims nothing, renders later system messages in place itself, and
// shows reasoning after the last user query only on the final turn or where it is not empty.
#include "chat/python_json.h"
#include "chat/render_formats.h"
#include "chat/render_text.h"
#include "util/error.h"

namespace hearth::chat {
namespace {

constexpr std::string_view kToolsIntro =
    "# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with "
    "function signatures within <tools></tools> XML tags:\n<tools>";
constexpr std::string_view kToolsOutro =
    "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
    "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": "
    "<args-json-object>}\n</tool_call><|im_end|>\n";

// Index of the last user message that is not only tool responses; the last index when there is none
// (this template does not raise).
size_t last_query_index(const std::vector<ChatMessage>& messages) {
  for (size_t k = messages.size(); k-- > 0;) {
    if (messages[k].role != ChatRole::user) continue;
    const std::string_view content = messages[k].content;
    if (!(content.starts_with("<tool_response>") && content.ends_with("</tool_response>"))) return k;
  }
  return messages.size() - 1;
}

const char* role_name(ChatRole role) { return role == ChatRole::system ? "system" : "user"; }

void write_assistant(PromptWriter& w, const ChatMessage& message, bool after_last_query, bool last) {
  const std::string& content = message.content;
  if (after_last_query && (last || !message.reasoning.empty())) {
    w << "<|im_start|>assistant\n<think>\n" << strip_char(message.reasoning, '\n') << "\n</think>\n\n"
      << lstrip_char(content, '\n');
  } else {
    w << "<|im_start|>assistant\n" << content;
  }
  for (size_t j = 0; j < message.tool_calls.size(); ++j) {
    const auto& call = message.tool_calls[j];
    // The template tests the untrimmed content here, even where it printed it left-stripped.
    if (j > 0 || !content.empty()) w << "\n";
    w << "<tool_call>\n{\"name\": \"" << call.name << "\", \"arguments\": " << python_json_dumps(call.arguments)
      << "}\n</tool_call>";
  }
  w << kImEnd;
}

}  // namespace

RenderedPrompt render_qwen3(const ChatConversation& conversation, const RenderOptions& options) {
  const auto& messages = conversation.messages;
  if (messages.empty()) throw Error("No messages provided", ErrorKind::invalid_request);
  PromptWriter w;

  const bool leading_system = messages[0].role == ChatRole::system;
  if (!conversation.tools.empty()) {
    w << "<|im_start|>system\n";
    if (leading_system) w << messages[0].content << "\n\n";
    w << kToolsIntro;
    for (const auto& tool : conversation.tools) w << "\n" << python_json_dumps(tool);
    w << kToolsOutro;
  } else if (leading_system) {
    w << "<|im_start|>system\n" << messages[0].content << kImEnd;
  }
  w.mark_boundary();

  const size_t last_query = last_query_index(messages);
  for (size_t i = 0; i < messages.size(); ++i) {
    const auto& message = messages[i];
    switch (message.role) {
      case ChatRole::system:
        if (i == 0) break;  // already in the prefix
        [[fallthrough]];
      case ChatRole::user:
        w << "<|im_start|>" << role_name(message.role) << "\n" << message.content << kImEnd;
        break;
      case ChatRole::assistant:
        write_assistant(w, message, i > last_query, i + 1 == messages.size());
        break;
      case ChatRole::tool: {
        if (i == 0 || messages[i - 1].role != ChatRole::tool) w << "<|im_start|>user";
        w << "\n<tool_response>\n" << message.content << "\n</tool_response>";
        if (i + 1 == messages.size() || messages[i + 1].role != ChatRole::tool) w << kImEnd;
        break;
      }
    }
    w.mark_boundary();
  }

  if (options.add_generation_prompt) {
    w << "<|im_start|>assistant\n";
    if (!options.enable_thinking) w << "<think>\n\n</think>\n\n";
    // With thinking on, the Qwen3 model opens <think> itself: generation starts outside it.
  }
  return w.take();
}

}  // namespace hearth::chat
