#include "api/request_parser.h"

#include <cmath>
#include <set>

#include "api/errors.h"
#include "api/json_fields.h"

namespace hearth::api {
namespace {

using namespace json_fields;

// Anthropic block types hearth has no model behaviour for (server-side tools, citations sources):
// accepted so that conversations carrying them keep working, and left out of the prompt.
bool is_ignored_block_type(std::string_view type) {
  static const std::set<std::string_view> kIgnored = {
      "server_tool_use",         "web_search_tool_result",
      "web_fetch_tool_result",   "code_execution_tool_result",
      "bash_code_execution_tool_result", "text_editor_code_execution_tool_result",
      "mcp_tool_use",            "mcp_tool_result",
      "container_upload",        "search_result",
      "tool_reference",
  };
  return kIgnored.count(type) > 0;
}

std::string media_type_of(const Json& block, const std::string& path) {
  const Json& source = required_field(block, path, "source");
  const std::string source_path = join(path, "source");
  expect_object(source, source_path);
  std::string source_type = nonempty_string(required_field(source, source_path, "type"), join(source_path, "type"));
  if (const Json* media = optional_field(source, "media_type")) return as_string(*media, join(source_path, "media_type"));
  if (source_type == "base64") fail(join(source_path, "media_type"), "field required");
  return {};
}

enum class BlockContext { user, assistant, system, tool_result };

std::optional<ContentBlock> parse_block(const Json& v, const std::string& path, BlockContext context);

std::vector<ContentBlock> parse_tool_result_content(const Json& v, const std::string& path) {
  std::vector<ContentBlock> out;
  if (v.is_string()) {
    ContentBlock text;
    text.text = v.get<std::string>();
    out.push_back(std::move(text));
    return out;
  }
  if (!v.is_array()) fail_type(path, "a string or an array of content blocks", v);
  for (size_t i = 0; i < v.size(); ++i) {
    if (auto block = parse_block(v[i], join(path, i), BlockContext::tool_result)) out.push_back(std::move(*block));
  }
  return out;
}

std::optional<ContentBlock> parse_block(const Json& v, const std::string& path, BlockContext context) {
  expect_object(v, path);
  const std::string type = nonempty_string(required_field(v, path, "type"), join(path, "type"));
  ContentBlock block;
  auto only_in = [&](bool allowed, std::string_view where) {
    if (!allowed) fail(join(path, "type"), "'" + type + "' blocks are only allowed in " + std::string(where));
  };
  if (type == "text") {
    block.type = BlockType::text;
    block.text = as_string(required_field(v, path, "text"), join(path, "text"));
  } else if (context == BlockContext::system) {
    fail(join(path, "type"), "system content blocks must be of type 'text', got '" + type + "'");
  } else if (type == "image" || type == "document") {
    block.type = type == "image" ? BlockType::image : BlockType::document;
    block.media_type = media_type_of(v, path);
  } else if (type == "tool_use") {
    only_in(context == BlockContext::assistant, "assistant messages");
    block.type = BlockType::tool_use;
    block.id = nonempty_string(required_field(v, path, "id"), join(path, "id"));
    block.name = nonempty_string(required_field(v, path, "name"), join(path, "name"));
    const Json& input = required_field(v, path, "input");
    expect_object(input, join(path, "input"));
    block.input = input;
  } else if (type == "tool_result") {
    only_in(context == BlockContext::user, "user messages");
    block.type = BlockType::tool_result;
    block.tool_use_id = nonempty_string(required_field(v, path, "tool_use_id"), join(path, "tool_use_id"));
    if (const Json* content = optional_field(v, "content")) {
      block.content = parse_tool_result_content(*content, join(path, "content"));
    }
    if (const Json* is_error = optional_field(v, "is_error")) block.is_error = as_bool(*is_error, join(path, "is_error"));
  } else if (type == "thinking") {
    only_in(context == BlockContext::assistant, "assistant messages");
    block.type = BlockType::thinking;
    block.text = as_string(required_field(v, path, "thinking"), join(path, "thinking"));
    if (const Json* sig = optional_field(v, "signature")) block.signature = as_string(*sig, join(path, "signature"));
  } else if (type == "redacted_thinking") {
    only_in(context == BlockContext::assistant, "assistant messages");
    block.type = BlockType::redacted_thinking;
    block.text = as_string(required_field(v, path, "data"), join(path, "data"));
  } else if (is_ignored_block_type(type)) {
    return std::nullopt;
  } else {
    fail(join(path, "type"), "unknown content block type '" + type + "'");
  }
  return block;
}

std::vector<ContentBlock> parse_content(const Json& v, const std::string& path, BlockContext context) {
  std::vector<ContentBlock> out;
  if (v.is_string()) {
    ContentBlock text;
    text.text = v.get<std::string>();
    if (!text.text.empty()) out.push_back(std::move(text));
    return out;
  }
  if (!v.is_array()) fail_type(path, "a string or an array of content blocks", v);
  for (size_t i = 0; i < v.size(); ++i) {
    if (auto block = parse_block(v[i], join(path, i), context)) out.push_back(std::move(*block));
  }
  return out;
}

Role parse_role(const Json& v, const std::string& path) {
  std::string role = as_string(v, path);
  if (role == "user") return Role::user;
  if (role == "assistant") return Role::assistant;
  if (role == "system") return Role::system;  // Claude Code sends these mid-conversation
  fail(path, "role must be 'user', 'assistant' or 'system', got '" + role + "'");
}

bool content_is_empty(const Json& content) {
  return (content.is_string() && content.get_ref<const std::string&>().empty()) ||
         (content.is_array() && content.empty());
}

std::vector<Message> parse_messages(const Json& v) {
  expect_array(v, "messages");
  if (v.empty()) fail("messages", "at least one message is required");
  std::vector<Message> messages;
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string path = join("messages", i);
    expect_object(v[i], path);
    Message message;
    message.role = parse_role(required_field(v[i], path, "role"), join(path, "role"));
    const Json& content = required_field(v[i], path, "content");
    const bool final_assistant = i + 1 == v.size() && message.role == Role::assistant;
    if (content_is_empty(content) && !final_assistant) {
      fail(join(path, "content"), "messages must have non-empty content except for the optional final assistant message");
    }
    BlockContext context = message.role == Role::user        ? BlockContext::user
                           : message.role == Role::assistant ? BlockContext::assistant
                                                             : BlockContext::system;
    message.content = parse_content(content, join(path, "content"), context);
    messages.push_back(std::move(message));
  }
  return messages;
}

// Each tool_result must answer a tool_use of the previous (non-system) message, which must be the
// assistant's: otherwise the rendered conversation would show a result for a call that never happened.
void check_tool_results(const std::vector<Message>& messages) {
  const Message* previous = nullptr;
  for (size_t i = 0; i < messages.size(); ++i) {
    const Message& message = messages[i];
    if (message.role == Role::system) continue;
    for (size_t b = 0; b < message.content.size(); ++b) {
      const ContentBlock& block = message.content[b];
      if (block.type != BlockType::tool_result) continue;
      bool found = false;
      if (previous && previous->role == Role::assistant) {
        for (const ContentBlock& candidate : previous->content) {
          found = found || (candidate.type == BlockType::tool_use && candidate.id == block.tool_use_id);
        }
      }
      if (!found) {
        fail("messages." + std::to_string(i) + ".content." + std::to_string(b),
             "unexpected `tool_use_id` found in `tool_result` blocks: " + block.tool_use_id +
                 ". Each `tool_result` block must have a corresponding `tool_use` block in the previous message.");
      }
    }
    previous = &message;
  }
}

std::vector<ContentBlock> parse_system(const Json& v) {
  return parse_content(v, "system", BlockContext::system);
}

std::vector<Tool> parse_tools(const Json& v) {
  expect_array(v, "tools");
  std::vector<Tool> tools;
  std::set<std::string> names;
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string path = join("tools", i);
    expect_object(v[i], path);
    // Anthropic-defined tool types (bash_20250124, web_search_20250305, ...) run on Anthropic's side or
    // need a schema hearth does not know; they are accepted and not offered to the model.
    if (const Json* type = optional_field(v[i], "type")) {
      if (as_string(*type, join(path, "type")) != "custom" && !v[i].contains("input_schema")) continue;
    }
    Tool tool;
    tool.name = as_string(required_field(v[i], path, "name"), join(path, "name"));
    check_tool_name(tool.name, join(path, "name"), names);
    if (const Json* description = optional_field(v[i], "description")) {
      tool.description = as_string(*description, join(path, "description"));
    }
    const Json& schema = required_field(v[i], path, "input_schema");
    expect_object(schema, join(path, "input_schema"));
    tool.input_schema = schema;
    if (const Json* defer = optional_field(v[i], "defer_loading")) {
      tool.defer_loading = as_bool(*defer, join(path, "defer_loading"));
    }
    tools.push_back(std::move(tool));
  }
  return tools;
}

ToolChoice parse_tool_choice(const Json& v, const std::vector<Tool>& tools) {
  expect_object(v, "tool_choice");
  ToolChoice choice;
  std::string type = as_string(required_field(v, "tool_choice", "type"), "tool_choice.type");
  if (type == "auto") {
    choice.type = ToolChoiceType::automatic;
  } else if (type == "any") {
    choice.type = ToolChoiceType::any;
  } else if (type == "tool") {
    choice.type = ToolChoiceType::tool;
    choice.name = nonempty_string(required_field(v, "tool_choice", "name"), "tool_choice.name");
  } else if (type == "none") {
    choice.type = ToolChoiceType::none;
  } else {
    fail("tool_choice.type", "must be one of 'auto', 'any', 'tool', 'none', got '" + type + "'");
  }
  if (const Json* d = optional_field(v, "disable_parallel_tool_use")) {
    choice.disable_parallel_tool_use = as_bool(*d, "tool_choice.disable_parallel_tool_use");
  }
  check_tool_choice(choice, tools, "tool_choice", "tool_choice.name", type);
  return choice;
}

ThinkingConfig parse_thinking(const Json& v) {
  expect_object(v, "thinking");
  ThinkingConfig config;
  std::string type = as_string(required_field(v, "thinking", "type"), "thinking.type");
  if (type == "enabled") {
    config.mode = ThinkingMode::enabled;
    config.budget_tokens = as_integer(required_field(v, "thinking", "budget_tokens"), "thinking.budget_tokens");
    if (config.budget_tokens < 1024) fail("thinking.budget_tokens", "must be greater than or equal to 1024");
  } else if (type == "adaptive") {
    config.mode = ThinkingMode::adaptive;
  } else if (type == "disabled") {
    config.mode = ThinkingMode::disabled;
  } else {
    fail("thinking.type", "must be one of 'enabled', 'adaptive', 'disabled', got '" + type + "'");
  }
  return config;
}

}  // namespace

// Bounds that keep the per-token stop-sequence matching cheap; far beyond what clients send.
constexpr size_t kMaxStopSequences = 64;
constexpr size_t kMaxStopSequenceBytes = 1024;

std::vector<std::string> parse_stop_sequences(const Json& v, const std::string& path) {
  expect_array(v, path);
  if (v.size() > kMaxStopSequences) fail(path, "at most 64 stop sequences are supported");
  std::vector<std::string> out;
  for (size_t i = 0; i < v.size(); ++i) {
    std::string s = nonempty_string(v[i], join(path, i));
    if (s.size() > kMaxStopSequenceBytes) fail(join(path, i), "longer than 1024 bytes");
    out.push_back(std::move(s));
  }
  return out;
}


void check_tool_name(const std::string& name, const std::string& path, std::set<std::string>& seen) {
  if (!valid_tool_name(name)) fail(path, "tool names must be 1-128 characters of letters, digits, '_', '-', '.' or ':'");
  if (!seen.insert(name).second) fail(path, "tool names must be unique: '" + name + "'");
}

void check_tool_choice(const ToolChoice& choice, const std::vector<Tool>& tools, const std::string& path,
                       const std::string& name_path, std::string_view type_as_sent) {
  if ((choice.type == ToolChoiceType::any || choice.type == ToolChoiceType::tool) && tools.empty()) {
    fail(path, "'" + std::string(type_as_sent) + "' requires at least one tool in `tools`");
  }
  if (choice.type == ToolChoiceType::tool) {
    bool known = false;
    for (const Tool& tool : tools) known = known || tool.name == choice.name;
    if (!known) fail(name_path, "no tool named '" + choice.name + "' in `tools`");
  }
}

MessagesRequest parse_messages_request(std::string_view body, RequestKind kind) {
  const Json root = json_fields::parse_object_body(body);

  MessagesRequest request;
  request.model = nonempty_string(required_field(root, "", "model"), "model");
  request.messages = parse_messages(required_field(root, "", "messages"));
  check_tool_results(request.messages);
  if (const Json* system = optional_field(root, "system")) request.system = parse_system(*system);
  if (const Json* tools = optional_field(root, "tools")) request.tools = parse_tools(*tools);
  if (const Json* choice = optional_field(root, "tool_choice")) request.tool_choice = parse_tool_choice(*choice, request.tools);
  if (const Json* thinking = optional_field(root, "thinking")) request.thinking = parse_thinking(*thinking);

  if (kind == RequestKind::messages) {
    request.max_tokens = as_integer(required_field(root, "", "max_tokens"), "max_tokens");
    if (request.max_tokens < 1) fail("max_tokens", "must be greater than or equal to 1");
    if (request.thinking.mode == ThinkingMode::enabled && request.thinking.budget_tokens >= request.max_tokens) {
      fail("max_tokens", "must be greater than thinking.budget_tokens");
    }
  } else if (const Json* max_tokens = optional_field(root, "max_tokens")) {
    request.max_tokens = as_integer(*max_tokens, "max_tokens");
  }
  if (const Json* stop = optional_field(root, "stop_sequences")) request.stop_sequences = parse_stop_sequences(*stop, "stop_sequences");
  if (const Json* stream = optional_field(root, "stream")) request.stream = as_bool(*stream, "stream");
  if (const Json* t = optional_field(root, "temperature")) request.temperature = number_in_range(*t, "temperature", 0, 1);
  if (const Json* p = optional_field(root, "top_p")) request.top_p = number_in_range(*p, "top_p", 0, 1);
  if (const Json* k = optional_field(root, "top_k")) {
    request.top_k = as_integer(*k, "top_k");
    if (*request.top_k < 0) fail("top_k", "must be greater than or equal to 0");
  }
  if (const Json* metadata = optional_field(root, "metadata")) {
    expect_object(*metadata, "metadata");
    if (const Json* user = optional_field(*metadata, "user_id")) request.metadata_user_id = as_string(*user, "metadata.user_id");
  }
  return request;
}

}  // namespace hearth::api
