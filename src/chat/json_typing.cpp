#include "chat/json_typing.h"

#include <cmath>
#include <optional>

namespace hearth::chat {
namespace {

std::optional<JsonType> type_from_name(std::string_view name) {
  if (name == "string") return JsonType::string;
  if (name == "integer") return JsonType::integer;
  if (name == "number") return JsonType::number;
  if (name == "boolean") return JsonType::boolean;
  if (name == "null") return JsonType::null;
  if (name == "object") return JsonType::object;
  if (name == "array") return JsonType::array;
  return std::nullopt;
}

JsonType type_of(const api::Json& v) {
  switch (v.type()) {
    case api::Json::value_t::number_integer:
    case api::Json::value_t::number_unsigned: return JsonType::integer;
    case api::Json::value_t::number_float: return JsonType::number;
    case api::Json::value_t::boolean: return JsonType::boolean;
    case api::Json::value_t::object: return JsonType::object;
    case api::Json::value_t::array: return JsonType::array;
    case api::Json::value_t::string: return JsonType::string;
    default: return JsonType::null;
  }
}

constexpr int kMaxSchemaDepth = 16;  // schemas nest anyOf inside anyOf rarely; this bounds hostile ones

JsonTypeSet allowed_types_at(const api::Json& schema, int depth) {
  JsonTypeSet set;
  if (!schema.is_object() || depth > kMaxSchemaDepth) return set;
  if (auto it = schema.find("type"); it != schema.end()) {
    if (it->is_string()) {
      if (auto t = type_from_name(it->get_ref<const std::string&>())) set.add(*t);
    } else if (it->is_array()) {
      for (const auto& name : *it)
        if (name.is_string())
          if (auto t = type_from_name(name.get_ref<const std::string&>())) set.add(*t);
    }
  }
  for (const char* combinator : {"anyOf", "oneOf", "allOf"}) {
    if (auto it = schema.find(combinator); it != schema.end() && it->is_array())
      for (const auto& member : *it) set.add(allowed_types_at(member, depth + 1));
  }
  if (set.empty()) {
    if (auto it = schema.find("enum"); it != schema.end() && it->is_array())
      for (const auto& v : *it) set.add(type_of(v));
    if (auto it = schema.find("const"); it != schema.end()) set.add(type_of(*it));
  }
  return set;
}

std::string_view trim(std::string_view s) {
  const char* ws = " \t\r\n\f\v";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  const size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

// Python literal syntax (what a model writes when it thinks in Python: single-quoted strings,
// True/False/None) rewritten as JSON text; nullopt when the text is not plausibly such a literal.
std::optional<std::string> python_literal_to_json(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '\'' || c == '"') {
      // A string literal in either quote style becomes a double-quoted JSON string.
      out.push_back('"');
      size_t j = i + 1;
      for (; j < s.size() && s[j] != c; ++j) {
        if (s[j] == '\\' && j + 1 < s.size()) {
          const char next = s[j + 1];
          if (next == '\'') {
            out.push_back('\'');
          } else {
            out.push_back('\\');
            out.push_back(next);
          }
          ++j;
        } else if (s[j] == '"') {
          out += "\\\"";
        } else {
          out.push_back(s[j]);
        }
      }
      if (j >= s.size()) return std::nullopt;  // unterminated
      out.push_back('"');
      i = j + 1;
    } else if (s.substr(i, 4) == "True") {
      out += "true";
      i += 4;
    } else if (s.substr(i, 5) == "False") {
      out += "false";
      i += 5;
    } else if (s.substr(i, 4) == "None") {
      out += "null";
      i += 4;
    } else {
      out.push_back(c);
      ++i;
    }
  }
  return out;
}

std::optional<api::Json> parse_json(std::string_view text) {
  auto v = api::Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (v.is_discarded()) return std::nullopt;
  return v;
}

// `v` as a value of one of `types`, or nullopt. An integer is a number, so a schema that allows numbers
// takes integers; one that allows only integers takes 5.0 (as 5) but not 2.5.
std::optional<api::Json> fit(const api::Json& v, JsonTypeSet types) {
  switch (type_of(v)) {
    case JsonType::integer:
      if (types.has(JsonType::integer) || types.has(JsonType::number)) return v;
      return std::nullopt;
    case JsonType::number: {
      const double d = v.get<double>();
      if (!std::isfinite(d)) return std::nullopt;  // 1e999 overflows; JSON cannot carry it
      if (types.has(JsonType::number)) return v;
      // 2^63 bounds what int64 holds exactly; 5.0 for an integer parameter becomes 5.
      if (types.has(JsonType::integer) && std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.2e18)
        return api::Json(static_cast<int64_t>(d));
      return std::nullopt;
    }
    default:
      if (types.has(type_of(v))) return v;
      return std::nullopt;
  }
}

}  // namespace

JsonTypeSet allowed_types(const api::Json& schema) { return allowed_types_at(schema, 0); }

const api::Json* property_schema(const api::Json& input_schema, std::string_view key) {
  if (!input_schema.is_object()) return nullptr;
  auto props = input_schema.find("properties");
  if (props == input_schema.end() || !props->is_object()) return nullptr;
  auto it = props->find(std::string(key));
  if (it == props->end()) return nullptr;
  return &*it;
}

api::Json convert_parameter(std::string_view raw, JsonTypeSet types) {
  if (types.empty() || types.only_string()) return api::Json(std::string(raw));
  const std::string_view text = trim(raw);
  std::optional<api::Json> parsed = parse_json(text);
  if (!parsed) {
    if (auto rewritten = python_literal_to_json(text)) parsed = parse_json(*rewritten);
  }
  if (parsed) {
    if (parsed->is_string()) {
      // A quoted value: with strings allowed the quotes are part of the text the model meant
      // (the template prints strings bare); otherwise the quotes wrap the typed value ("5").
      if (!types.has(JsonType::string)) {
        const std::string inner = parsed->get<std::string>();
        auto inner_parsed = parse_json(trim(inner));
        if (inner_parsed && !inner_parsed->is_string())
          if (auto v = fit(*inner_parsed, types)) return *v;
      }
    } else if (auto v = fit(*parsed, types)) {
      return *v;
    }
  }
  return api::Json(std::string(raw));
}

api::Json coerce_value(api::Json value, JsonTypeSet types) {
  if (types.empty()) return value;
  if (auto v = fit(value, types)) return *v;
  if (value.is_string()) {
    api::Json converted = convert_parameter(value.get_ref<const std::string&>(), types);
    return converted;
  }
  if (types.has(JsonType::string) && (value.is_number() || value.is_boolean())) return api::Json(dump_json(value));
  return value;
}

void append_json_escaped(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out.push_back(hex[u >> 4]);
          out.push_back(hex[u & 15]);
        } else {
          out.push_back(c);
        }
    }
  }
}

std::string dump_json(const api::Json& value) {
  return value.dump(-1, ' ', false, api::Json::error_handler_t::replace);
}

}  // namespace hearth::chat
