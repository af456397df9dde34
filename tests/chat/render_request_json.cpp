#include "render_request_json.h"

#include "util/error.h"

namespace hearth::chat {
namespace {

using api::BlockType;
using api::ContentBlock;
using api::Json;

Error bad(const std::string& path, const std::string& what) {
  return Error(path + ": " + what, ErrorKind::invalid_request);
}

const Json& member(const Json& obj, const char* key, const std::string& path) {
  auto it = obj.find(key);
  if (it == obj.end()) throw bad(path, std::string("missing '") + key + "'");
  return *it;
}

std::string string_member(const Json& obj, const char* key, const std::string& path) {
  const Json& v = member(obj, key, path);
  if (!v.is_string()) throw bad(path + "." + key, "must be a string");
  return v.get<std::string>();
}

std::string optional_string(const Json& obj, const char* key, const std::string& path) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return "";
  if (!it->is_string()) throw bad(path + "." + key, "must be a string");
  return it->get<std::string>();
}

std::string source_media_type(const Json& block, const std::string& path) {
  auto it = block.find("source");
  if (it == block.end() || !it->is_object()) return "";
  return optional_string(*it, "media_type", path + ".source");
}

std::vector<ContentBlock> parse_content(const Json& content, const std::string& path);

ContentBlock parse_block(const Json& j, const std::string& path) {
  if (!j.is_object()) throw bad(path, "a content block must be an object");
  const std::string type = string_member(j, "type", path);
  ContentBlock b;
  if (type == "text") {
    b.type = BlockType::text;
    b.text = string_member(j, "text", path);
  } else if (type == "image" || type == "document") {
    b.type = type == "image" ? BlockType::image : BlockType::document;
    b.media_type = source_media_type(j, path);
  } else if (type == "tool_use") {
    b.type = BlockType::tool_use;
    b.id = optional_string(j, "id", path);
    b.name = string_member(j, "name", path);
    auto it = j.find("input");
    b.input = it == j.end() ? Json::object() : *it;
  } else if (type == "tool_result") {
    b.type = BlockType::tool_result;
    b.tool_use_id = optional_string(j, "tool_use_id", path);
    auto it = j.find("content");
    if (it != j.end() && !it->is_null()) b.content = parse_content(*it, path + ".content");
    auto err = j.find("is_error");
    if (err != j.end() && !err->is_null()) {
      if (!err->is_boolean()) throw bad(path + ".is_error", "must be a boolean");
      b.is_error = err->get<bool>();
    }
  } else if (type == "thinking") {
    b.type = BlockType::thinking;
    b.text = string_member(j, "thinking", path);
    b.signature = optional_string(j, "signature", path);
  } else if (type == "redacted_thinking") {
    b.type = BlockType::redacted_thinking;
    b.text = optional_string(j, "data", path);
  } else {
    throw bad(path, "unsupported content block type '" + type + "'");
  }
  return b;
}

// A string becomes one text block; an array is parsed block by block.
std::vector<ContentBlock> parse_content(const Json& content, const std::string& path) {
  std::vector<ContentBlock> out;
  if (content.is_string()) {
    ContentBlock b;
    b.text = content.get<std::string>();
    out.push_back(std::move(b));
    return out;
  }
  if (!content.is_array()) throw bad(path, "must be a string or an array of content blocks");
  for (size_t i = 0; i < content.size(); ++i) {
    out.push_back(parse_block(content[i], path + "[" + std::to_string(i) + "]"));
  }
  return out;
}

api::Role parse_role(const Json& message, const std::string& path) {
  const std::string role = string_member(message, "role", path);
  if (role == "user") return api::Role::user;
  if (role == "assistant") return api::Role::assistant;
  if (role == "system") return api::Role::system;
  throw bad(path + ".role", "unknown role '" + role + "'");
}

api::ThinkingConfig parse_thinking(const Json& j) {
  api::ThinkingConfig t;
  if (!j.is_object()) return t;
  const std::string type = optional_string(j, "type", "thinking");
  if (type == "enabled") t.mode = api::ThinkingMode::enabled;
  if (type == "adaptive") t.mode = api::ThinkingMode::adaptive;
  if (type == "disabled") t.mode = api::ThinkingMode::disabled;
  auto it = j.find("budget_tokens");
  if (it != j.end() && it->is_number_integer()) t.budget_tokens = it->get<int64_t>();
  return t;
}

}  // namespace

api::MessagesRequest request_for_render_from_json(const Json& body) {
  if (!body.is_object()) throw bad("request", "must be a JSON object");
  api::MessagesRequest r;
  r.model = optional_string(body, "model", "request");

  if (auto it = body.find("system"); it != body.end() && !it->is_null()) {
    r.system = parse_content(*it, "system");
  }

  const Json& messages = member(body, "messages", "request");
  if (!messages.is_array()) throw bad("messages", "must be an array");
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string path = "messages[" + std::to_string(i) + "]";
    const Json& m = messages[i];
    if (!m.is_object()) throw bad(path, "must be an object");
    api::Message message;
    message.role = parse_role(m, path);
    message.content = parse_content(member(m, "content", path), path + ".content");
    r.messages.push_back(std::move(message));
  }

  if (auto it = body.find("tools"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) throw bad("tools", "must be an array");
    for (size_t i = 0; i < it->size(); ++i) {
      const std::string path = "tools[" + std::to_string(i) + "]";
      const Json& t = (*it)[i];
      if (!t.is_object()) throw bad(path, "must be an object");
      api::Tool tool;
      tool.name = string_member(t, "name", path);
      tool.description = optional_string(t, "description", path);
      if (auto s = t.find("input_schema"); s != t.end()) tool.input_schema = *s;
      if (auto d = t.find("defer_loading"); d != t.end() && d->is_boolean()) tool.defer_loading = d->get<bool>();
      r.tools.push_back(std::move(tool));
    }
  }

  if (auto it = body.find("thinking"); it != body.end()) r.thinking = parse_thinking(*it);
  return r;
}

}  // namespace hearth::chat
