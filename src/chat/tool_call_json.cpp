#include "chat/tool_call_json.h"

namespace hearth::chat {

JsonExtent::Status JsonExtent::feed(char c) {
  if (in_string_) {
    if (escaped_) {
      escaped_ = false;
    } else if (c == '\\') {
      escaped_ = true;
    } else if (c == '"') {
      in_string_ = false;
    }
    return Status::more;
  }
  switch (c) {
    case '"': in_string_ = true; break;
    case '{': closers_.push_back('}'); started_ = true; break;
    case '[': closers_.push_back(']'); started_ = true; break;
    case '}':
    case ']':
      // A mismatched bracket still closes a level: the parser will reject the text, and the extent
      // stays bounded instead of waiting forever.
      if (!closers_.empty()) closers_.pop_back();
      if (started_ && closers_.empty()) return Status::complete;
      break;
    default: break;
  }
  return Status::more;
}

namespace {

std::optional<JsonToolCall> read_call(const api::Json& v) {
  if (!v.is_object()) return std::nullopt;
  const api::Json* call = &v;
  if (auto fn = v.find("function"); fn != v.end() && fn->is_object() && !v.contains("name")) call = &*fn;
  auto name = call->find("name");
  if (name == call->end() || !name->is_string()) return std::nullopt;
  JsonToolCall out;
  out.name = name->get<std::string>();
  for (const char* key : {"arguments", "parameters", "input"}) {
    auto args = call->find(key);
    if (args == call->end()) continue;
    if (args->is_string()) {
      auto parsed = api::Json::parse(args->get_ref<const std::string&>(), nullptr, false);
      if (parsed.is_discarded() || !parsed.is_object()) return std::nullopt;
      out.arguments = std::move(parsed);
    } else if (args->is_object()) {
      out.arguments = *args;
    } else if (!args->is_null()) {
      return std::nullopt;
    }
    break;
  }
  return out;
}

}  // namespace

std::optional<std::vector<JsonToolCall>> parse_json_tool_calls(std::string_view text) {
  api::Json v = api::Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (v.is_discarded()) return std::nullopt;
  std::vector<JsonToolCall> calls;
  if (v.is_array()) {
    if (v.empty()) return std::nullopt;
    for (const auto& item : v) {
      auto call = read_call(item);
      if (!call) return std::nullopt;
      calls.push_back(std::move(*call));
    }
  } else {
    auto call = read_call(v);
    if (!call) return std::nullopt;
    calls.push_back(std::move(*call));
  }
  return calls;
}

}  // namespace hearth::chat
