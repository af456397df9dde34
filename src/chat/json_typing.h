#pragma once
// Tool parameter typing for the output parser. Qwen3-Coder XML tool calls carry every parameter value as
// bare text (the chat template prints objects and arrays as JSON and everything else with `|string`), so
// the JSON type of a value has to come from the tool's input_schema. These helpers read the types a
// schema allows and convert a raw value to the first fitting one, falling back to a JSON string.
#include <cstdint>
#include <string>
#include <string_view>

#include "api/types.h"

namespace hearth::chat {

enum class JsonType : uint8_t { string, integer, number, boolean, null, object, array };

// A set of JsonType values. Empty means the schema says nothing usable about the type.
class JsonTypeSet {
 public:
  void add(JsonType t) { bits_ |= bit(t); }
  void add(JsonTypeSet other) { bits_ |= other.bits_; }
  bool has(JsonType t) const { return (bits_ & bit(t)) != 0; }
  bool empty() const { return bits_ == 0; }
  // True when a value of this set can only ever be a string, so it can be streamed as one.
  bool only_string() const { return bits_ == bit(JsonType::string); }

 private:
  static uint8_t bit(JsonType t) { return static_cast<uint8_t>(1u << static_cast<unsigned>(t)); }
  uint8_t bits_ = 0;
};

// The types a JSON schema allows: "type" (a name or an array of names), the union over "anyOf"/"oneOf"/
// "allOf" members, or the types of "enum"/"const" values. "$ref" and anything unknown give an empty set.
JsonTypeSet allowed_types(const api::Json& schema);

// The schema of property `key` of a tool's input_schema (its "properties" entry), or null when the
// schema does not declare it.
const api::Json* property_schema(const api::Json& input_schema, std::string_view key);

// Converts the raw text of an XML parameter value to the JSON value `types` asks for. Tries JSON (also
// the Python spellings True/False/None the model sometimes writes) and keeps the result when its type is
// allowed (an integral number counts as an integer); otherwise, or when `types` is empty, the value is
// the raw text as a JSON string.
api::Json convert_parameter(std::string_view raw, JsonTypeSet types);

// Converts a value that arrived already typed (a Qwen3 JSON tool call) when its type is not allowed but
// it is a string that converts to an allowed one (e.g. "5" for an integer). Other values are kept.
api::Json coerce_value(api::Json value, JsonTypeSet types);

// Appends `s` (valid UTF-8) to `out` escaped as the inside of a JSON string literal.
void append_json_escaped(std::string& out, std::string_view s);

// JSON text of `value`; invalid UTF-8 (which the parser never produces) is replaced rather than thrown on.
std::string dump_json(const api::Json& value);

}  // namespace hearth::chat
