// Qwen3.5 / Qwen3.6 chat format: what the model's chat_template.jinja produces, reproduced step by step
// (the comments name the template's branches). Checked byte for byte against the real template by the
// golden tests (tests/chat/render_golden_test.cpp, goldens from tools/render/make_goldens.py).
#include "chat/python_json.h"
#include "chat/render_formats.h"
#include "chat/render_text.h"
#include "util/error.h"

namespace hearth::chat {
namespace {

constexpr std::string_view kToolsHeader =
    "<|im_start|>system\n# Tools\n\nYou have access to the following functions:\n\n<tools>";
constexpr std::string_view kToolsFooter =
    "\n</tools>\n\nIf you choose to call a function ONLY reply in the following format with NO suffix:\n\n"
    "<tool_call>\n<function=example_function_name>\n<parameter=example_parameter_1>\nvalue_1\n</parameter>\n"
    "<parameter=example_parameter_2>\nThis is the value for the second parameter\nthat can span\nmultiple "
    "lines\n</parameter>\n</function>\n</tool_call>\n\n<IMPORTANT>\nReminder:\n- Function calls MUST follow "
    "the specified format: an inner <function=...></function> block must be nested within "
    "<tool_call></tool_call> XML tags\n- Required parameters MUST be specified\n- You may provide optional "
    "reasoning for your function call in natural language BEFORE the function call, but NOT after\n- If "
    "there is no function call available, answer the question like normal with your current knowledge and "
    "do not tell the user about function calls\n</IMPORTANT>";

// The template's `last_query_index`: the last user message that is not just tool responses. Reasoning of
// assistant turns after it is shown; before it, dropped (unless preserve_thinking, Qwen3.6).
size_t last_query_index(const std::vector<ChatMessage>& messages) {
  for (size_t k = messages.size(); k-- > 0;) {
    if (messages[k].role != ChatRole::user) continue;
    const std::string_view content = python_strip(messages[k].content);
    if (!(content.starts_with("<tool_response>") && content.ends_with("</tool_response>"))) return k;
  }
  throw Error("No user query found in messages (the Qwen3.5 chat format needs at least one user message "
              "that is not only tool results)",
              ErrorKind::invalid_request);
}

void write_tool_call_arguments(PromptWriter& w, const api::Json& arguments) {
  for (const auto& [name, value] : arguments.items()) {
    w << "<parameter=" << name << ">\n";
    // Objects and arrays as JSON (tojson), everything else with Python's str() (`|string`).
    if (value.is_object() || value.is_array()) {
      w << python_json_dumps(value);
    } else {
      w << python_str(value);
    }
    w << "\n</parameter>\n";
  }
}

void write_assistant(PromptWriter& w, const ChatMessage& message, bool show_reasoning) {
  const std::string_view content = python_strip(message.content);
  if (show_reasoning) {
    w << "<|im_start|>assistant\n<think>\n" << python_strip(message.reasoning) << "\n</think>\n\n" << content;
  } else {
    w << "<|im_start|>assistant\n" << content;
  }
  for (size_t j = 0; j < message.tool_calls.size(); ++j) {
    const auto& call = message.tool_calls[j];
    if (j == 0) {
      w << (content.empty() ? "<tool_call>\n<function=" : "\n\n<tool_call>\n<function=");
    } else {
      w << "\n<tool_call>\n<function=";
    }
    w << call.name << ">\n";
    write_tool_call_arguments(w, call.arguments);
    w << "</function>\n</tool_call>";
  }
  w << kImEnd;
}

}  // namespace

RenderedPrompt render_qwen3_5(const ChatConversation& conversation, const RenderOptions& options) {
  const auto& messages = conversation.messages;
  if (messages.empty()) throw Error("No messages provided", ErrorKind::invalid_request);
  PromptWriter w;

  // Prefix: the tools block (with the leading system prompt appended), or the system prompt alone.
  const bool leading_system = messages[0].role == ChatRole::system;
  if (!conversation.tools.empty()) {
    w << kToolsHeader;
    for (const auto& tool : conversation.tools) w << "\n" << python_json_dumps(tool);
    w << kToolsFooter;
    if (leading_system) {
      const std::string_view content = python_strip(messages[0].content);
      if (!content.empty()) w << "\n\n" << content;
    }
    w << kImEnd;
  } else if (leading_system) {
    w << "<|im_start|>system\n" << python_strip(messages[0].content) << kImEnd;
  }
  w.mark_boundary();

  const size_t last_query = last_query_index(messages);
  for (size_t i = 0; i < messages.size(); ++i) {
    const auto& message = messages[i];
    switch (message.role) {
      case ChatRole::system:
        // The template raises here for i > 0; hearth renders the message in place instead (the one
        // deliberate deviation, see anthropic_mapping.h).
        if (i > 0) w << "<|im_start|>system\n" << python_strip(message.content) << kImEnd;
        break;
      case ChatRole::user:
        w << "<|im_start|>user\n" << python_strip(message.content) << kImEnd;
        break;
      case ChatRole::assistant:
        write_assistant(w, message, options.preserve_thinking || i > last_query);
        break;
      case ChatRole::tool: {
        // Consecutive tool messages share one user turn.
        if (i > 0 && messages[i - 1].role != ChatRole::tool) w << "<|im_start|>user";
        w << "\n<tool_response>\n" << python_strip(message.content) << "\n</tool_response>";
        const bool last = i + 1 == messages.size();
        if (last || messages[i + 1].role != ChatRole::tool) w << kImEnd;
        break;
      }
    }
    w.mark_boundary();
  }

  if (options.add_generation_prompt) {
    w << "<|im_start|>assistant\n";
    w << (options.enable_thinking ? "<think>\n" : "<think>\n\n</think>\n\n");
    w.prompt().generation_starts_in_thinking = options.enable_thinking;
  }
  return w.take();
}

}  // namespace hearth::chat
