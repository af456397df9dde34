#include "chat/anthropic_mapping.h"

#include "util/error.h"

namespace hearth::chat {
namespace {

using api::BlockType;
using api::ContentBlock;

const char* block_type_name(BlockType t) {
  switch (t) {
    case BlockType::text: return "text";
    case BlockType::image: return "image";
    case BlockType::document: return "document";
    case BlockType::tool_use: return "tool_use";
    case BlockType::tool_result: return "tool_result";
    case BlockType::thinking: return "thinking";
    case BlockType::redacted_thinking: return "redacted_thinking";
  }
  return "unknown";
}

Error misplaced_block(BlockType type, const char* role, size_t message_index) {
  return Error(std::string("messages[") + std::to_string(message_index) + "]: a " + block_type_name(type) +
                   " block cannot appear in a " + role + " message",
               ErrorKind::invalid_request);
}

// Appends the text a text-like block shows the model: its text, or the placeholder of an image or
// document. Returns false for blocks that are not text-like.
bool append_text_part(std::string& out, const ContentBlock& block) {
  switch (block.type) {
    case BlockType::text:
      out += block.text;
      return true;
    case BlockType::image:
    case BlockType::document:
      out += media_placeholder(block.type, block.media_type);
      return true;
    default:
      return false;
  }
}

api::Json tool_json(const api::Tool& tool) {
  api::Json function = api::Json::object();
  function["name"] = tool.name;
  if (!tool.description.empty()) function["description"] = tool.description;
  function["parameters"] = tool.input_schema;
  api::Json out = api::Json::object();
  out["type"] = "function";
  out["function"] = std::move(function);
  return out;
}

std::string tool_result_text(const ContentBlock& result, size_t index) {
  std::string text;
  if (result.is_error) text += kToolErrorPrefix;
  for (const auto& part : result.content) {
    if (!append_text_part(text, part)) throw misplaced_block(part.type, "tool_result content of a user", index);
  }
  return text;
}

void map_user_message(const api::Message& message, size_t index, std::vector<ChatMessage>& out) {
  if (message.content.empty()) {
    out.push_back(ChatMessage{ChatRole::user, "", "", {}});
    return;
  }
  // Each run of tool results → tool messages; each run of other blocks → one user message.
  bool in_user_run = false;
  for (const auto& block : message.content) {
    if (block.type == BlockType::tool_result) {
      out.push_back(ChatMessage{ChatRole::tool, tool_result_text(block, index), "", {}});
      in_user_run = false;
      continue;
    }
    if (block.type == BlockType::thinking || block.type == BlockType::redacted_thinking) continue;
    if (block.type == BlockType::tool_use) throw misplaced_block(block.type, "user", index);
    if (!in_user_run) {
      out.push_back(ChatMessage{ChatRole::user, "", "", {}});
      in_user_run = true;
    }
    append_text_part(out.back().content, block);
  }
}

ChatMessage map_assistant_message(const api::Message& message, size_t index) {
  ChatMessage out{ChatRole::assistant, "", "", {}};
  for (const auto& block : message.content) {
    switch (block.type) {
      case BlockType::thinking:
        out.reasoning += block.text;
        break;
      case BlockType::redacted_thinking:
        break;
      case BlockType::tool_use:
        if (!block.input.is_object()) {
          throw Error("messages[" + std::to_string(index) + "]: tool_use '" + block.name +
                          "' has an input that is not a JSON object",
                      ErrorKind::invalid_request);
        }
        out.tool_calls.push_back(ChatToolCall{block.name, block.input});
        break;
      case BlockType::tool_result:
        throw misplaced_block(block.type, "assistant", index);
      default:
        append_text_part(out.content, block);
    }
  }
  return out;
}

ChatMessage map_system_message(const api::Message& message, size_t index) {
  ChatMessage out{ChatRole::system, "", "", {}};
  for (const auto& block : message.content) {
    if (!append_text_part(out.content, block)) throw misplaced_block(block.type, "system", index);
  }
  return out;
}

}  // namespace

bool is_billing_header_block(std::string_view system_text) {
  return system_text.starts_with("x-anthropic-billing-header:");
}

std::string media_placeholder(api::BlockType type, std::string_view media_type) {
  const bool image = type == BlockType::image;
  std::string out = image ? "[image" : "[document";
  if (!media_type.empty()) {
    out += ": ";
    out += media_type;
  }
  out += image ? " — this model cannot see images]" : " — this model cannot read documents]";
  return out;
}

ChatConversation map_anthropic_request(const api::MessagesRequest& request) {
  ChatConversation conv;
  conv.tools.reserve(request.tools.size());
  for (const auto& tool : request.tools) conv.tools.push_back(tool_json(tool));

  std::string system;
  for (const auto& block : request.system) {
    if (block.type != BlockType::text) {
      throw Error(std::string("system: a ") + block_type_name(block.type) + " block is not allowed (text only)",
                  ErrorKind::invalid_request);
    }
    if (!is_billing_header_block(block.text)) system += block.text;
  }
  if (!system.empty()) conv.messages.push_back(ChatMessage{ChatRole::system, std::move(system), "", {}});

  for (size_t i = 0; i < request.messages.size(); ++i) {
    const auto& message = request.messages[i];
    switch (message.role) {
      case api::Role::user: map_user_message(message, i, conv.messages); break;
      case api::Role::assistant: conv.messages.push_back(map_assistant_message(message, i)); break;
      case api::Role::system: conv.messages.push_back(map_system_message(message, i)); break;
    }
  }
  return conv;
}

}  // namespace hearth::chat
