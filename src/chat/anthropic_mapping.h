#pragma once
// Anthropic Messages request → the chat-template conversation (the `messages` and `tools` a Hugging Face
// chat template is rendered with). The renderers then print this conversation exactly as the model's
// Jinja template would. tools/render/make_goldens.py implements the same rules independently in Python;
// the golden tests hold the two together.
//
// Mapping decisions (each is tested in tests/chat/render_mapping_test.cpp):
//
// Tools. Each tool becomes {"type": "function", "function": {"name", "description", "parameters"}}
//   with `parameters` = input_schema, key order as given. This is the OpenAI function format that
//   transformers' apply_chat_template passes through, that mlx-lm and vLLM hand to the template, and that
//   the Qwen models were trained on (transformers' get_json_schema produces the same shape). An empty
//   description is left out (the key is optional in that format). Every tool is listed, including those
//   marked defer_loading (hearth has no server-side tool search). tool_choice does not change the prompt.
// System prompt. The text blocks of `system` are concatenated without separator (Claude Code writes its
//   blocks to be joined that way: the next block starts with its own "\n"; the templates themselves join
//   a list of text parts the same way). A block starting with "x-anthropic-billing-header:" is removed:
//   its cc_version suffix and cch= field change per conversation or per request, and left in, they would
//   change the prompt at its first tokens. The system message exists only when the joined text is not
//   empty.
// In-place system messages. A role "system" message inside `messages` stays where it is and renders as
//   "<|im_start|>system\n" + text + "<|im_end|>\n" (the template's own form of a leading system message
//   without tools). The Qwen3.5 template would raise "System message must be at the beginning"; this is
//   the one deliberate deviation from it (make_goldens.py patches exactly that raise into this output).
//   Moving such messages to the top would rewrite the prompt's prefix on every turn. The Qwen3 template
//   already renders them in place. If `system` is empty and messages[0] has role "system", it is the
//   leading system message, as in the template.
// Text. All text parts of one message are concatenated without separator, as the template does with a
//   list of text parts; a message given as a string and as text blocks with the same text map alike.
//   cache_control markers are ignored everywhere.
// Tool results. In a user message, each maximal run of tool_result blocks becomes one "tool" message per
//   result (in order) and each run of other blocks one "user" message, so tool results render merged into
//   one user turn of <tool_response> blocks and text next to them follows as its own user turn (what the
//   template does with a tool message followed by a user message). A result's content (string or blocks)
//   is concatenated like text; is_error puts the line "Error:" before it, so the model sees the failure.
// Assistant turns. Text parts form the content, thinking blocks (concatenated) the reasoning, tool_use
//   blocks the tool_calls with `arguments` = input (an object; anything else is an invalid request).
//   Text placed after a tool call moves before the calls (the format has no place for it there).
//   redacted_thinking is dropped (its data is not readable text). The reasoning is always passed, ""
//   when there is none, so the template never splits the content on a literal "</think>".
// Images and documents. Until vision exists they become the text "[image: image/png — this model cannot
//   see images]" (or "[document: application/pdf — this model cannot read documents]"), wherever they
//   appear (user text, tool results).
// Roles. Consecutive messages of the same role are not merged: each is its own turn, as in the
//   template. Thinking blocks in a user message are dropped; tool_use in a user message and tool_result
//   in an assistant message are invalid requests.
#include <string>
#include <string_view>
#include <vector>

#include "api/types.h"

namespace hearth::chat {

enum class ChatRole { system, user, assistant, tool };

struct ChatToolCall {
  std::string name;
  api::Json arguments = api::Json::object();  // always an object
};

struct ChatMessage {
  ChatRole role = ChatRole::user;
  std::string content;
  std::string reasoning;                  // assistant only; "" when there is none
  std::vector<ChatToolCall> tool_calls;   // assistant only
};

struct ChatConversation {
  std::vector<api::Json> tools;           // {"type": "function", "function": {...}}, request order
  std::vector<ChatMessage> messages;      // the system prompt, when any, is messages[0]
};

// Throws hearth::Error(invalid_request) for blocks that have no place in their message's role.
ChatConversation map_anthropic_request(const api::MessagesRequest& request);

// The parts of the mapping that other code and tests name directly.
bool is_billing_header_block(std::string_view system_text);
std::string media_placeholder(api::BlockType type, std::string_view media_type);
inline constexpr std::string_view kToolErrorPrefix = "Error:\n";

}  // namespace hearth::chat
