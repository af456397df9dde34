#include "api/json_fields.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "api/errors.h"

namespace hearth::api::json_fields {

[[noreturn]] void fail(const std::string& path, std::string_view problem) {
  throw ApiError(ErrorType::invalid_request_error, path + ": " + std::string(problem), path);
}

std::string_view type_name(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: return "a number";
    case Json::value_t::string: return "a string";
    case Json::value_t::array: return "an array";
    case Json::value_t::object: return "an object";
    default: return "an unsupported value";
  }
}

[[noreturn]] void fail_type(const std::string& path, std::string_view expected, const Json& got) {
  fail(path, "expected " + std::string(expected) + ", got " + std::string(type_name(got)));
}

std::string join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}
std::string join(const std::string& path, size_t index) { return path + "." + std::to_string(index); }

const Json* optional_field(const Json& object, std::string_view key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

const Json& required_field(const Json& object, const std::string& path, std::string_view key) {
  const Json* v = optional_field(object, key);
  if (!v) fail(join(path, key), "field required");
  return *v;
}

std::string as_string(const Json& v, const std::string& path) {
  if (!v.is_string()) fail_type(path, "a string", v);
  return v.get<std::string>();
}

std::string nonempty_string(const Json& v, const std::string& path) {
  std::string s = as_string(v, path);
  if (s.empty()) fail(path, "must not be empty");
  return s;
}

bool as_bool(const Json& v, const std::string& path) {
  if (!v.is_boolean()) fail_type(path, "a boolean", v);
  return v.get<bool>();
}

double as_number(const Json& v, const std::string& path) {
  if (!v.is_number()) fail_type(path, "a number", v);
  double d = v.get<double>();
  if (!std::isfinite(d)) fail(path, "must be a finite number");
  return d;
}

int64_t as_integer(const Json& v, const std::string& path) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > uint64_t(INT64_MAX)) fail(path, "integer out of range");
    return int64_t(u);
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) <= 9007199254740992.0) return int64_t(d);
    fail(path, "expected an integer, got " + v.dump());
  }
  fail_type(path, "an integer", v);
}

void expect_object(const Json& v, const std::string& path) {
  if (!v.is_object()) fail_type(path, "an object", v);
}

void expect_array(const Json& v, const std::string& path) {
  if (!v.is_array()) fail_type(path, "an array", v);
}

bool valid_tool_name(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

double number_in_range(const Json& v, const std::string& path, double low, double high) {
  double d = as_number(v, path);
  if (d < low || d > high) {
    char buffer[96];
    std::snprintf(buffer, sizeof(buffer), "must be between %g and %g, got %g", low, high, d);
    fail(path, buffer);
  }
  return d;
}

int nesting_depth(std::string_view text, int limit) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

Json parse_object_body(std::string_view body) {
  if (body.empty()) throw ApiError(ErrorType::invalid_request_error, "request body is empty; expected a JSON object");
  if (nesting_depth(body, kMaxJsonDepth) > kMaxJsonDepth) {
    throw ApiError(ErrorType::invalid_request_error,
                   "request body nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  Json root;
  try {
    root = Json::parse(body);
  } catch (const Json::exception& e) {
    // parse_error, and also out_of_range for numbers beyond double (1e309).
    throw ApiError(ErrorType::invalid_request_error, std::string("request body is not valid JSON: ") + e.what());
  }
  if (!root.is_object()) {
    throw ApiError(ErrorType::invalid_request_error,
                   "request body must be a JSON object, got " + std::string(type_name(root)));
  }
  return root;
}

}  // namespace hearth::api::json_fields
