#pragma once
// Typed access to the fields of a JSON request body, for the request parsers of every wire format: each
// failure is an ApiError(invalid_request_error) whose message starts with the field's path
// ("messages.2.content.0.text: expected a string, got a number") and whose param is that path.
#include <string>
#include <string_view>

#include "api/types.h"

namespace hearth::api::json_fields {

// Deeper JSON is refused before it is parsed: nothing legitimate nests this far, and deep nesting is a
// classic way to exhaust a recursive parser's stack.
inline constexpr int kMaxJsonDepth = 128;

// Depth of the deepest array/object nesting in `text` (strings skipped), stopping early past `limit`.
int nesting_depth(std::string_view text, int limit);

// The body as a JSON object: refuses an empty body, too deep nesting, invalid JSON and non-objects.
Json parse_object_body(std::string_view body);

[[noreturn]] void fail(const std::string& path, std::string_view problem);
[[noreturn]] void fail_type(const std::string& path, std::string_view expected, const Json& got);
std::string_view type_name(const Json& value);

std::string join(const std::string& path, std::string_view key);
std::string join(const std::string& path, size_t index);

// Optional fields treat an explicit null like an absent key (both APIs do).
const Json* optional_field(const Json& object, std::string_view key);
const Json& required_field(const Json& object, const std::string& path, std::string_view key);

std::string as_string(const Json& value, const std::string& path);
std::string nonempty_string(const Json& value, const std::string& path);
bool as_bool(const Json& value, const std::string& path);
double as_number(const Json& value, const std::string& path);
// JSON integers, or floats with an integral value (1024.0), within int64 range.
int64_t as_integer(const Json& value, const std::string& path);
double number_in_range(const Json& value, const std::string& path, double low, double high);
void expect_object(const Json& value, const std::string& path);
void expect_array(const Json& value, const std::string& path);

// Tool (function) names both APIs accept: 1-128 of letters, digits, '_', '-', '.' and ':'.
bool valid_tool_name(std::string_view name);

}  // namespace hearth::api::json_fields
