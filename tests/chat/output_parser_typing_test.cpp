// Schema typing of tool parameters and the JSON tool call reader.
#include <gtest/gtest.h>

#include "chat/json_typing.h"
#include "chat/tool_call_json.h"

namespace hearth::chat {
namespace {

using api::Json;

JsonTypeSet types(const char* schema) { return allowed_types(Json::parse(schema)); }

TEST(JsonTyping, TypeNamesAndTypeArraysGiveTheirTypes) {
  EXPECT_TRUE(types(R"({"type":"string"})").only_string());
  const JsonTypeSet t = types(R"({"type":["integer","null"]})");
  EXPECT_TRUE(t.has(JsonType::integer));
  EXPECT_TRUE(t.has(JsonType::null));
  EXPECT_FALSE(t.has(JsonType::string));
}

TEST(JsonTyping, AnyOfOneOfAndEnumContributeTheirTypes) {
  const JsonTypeSet t = types(R"({"anyOf":[{"type":"array"},{"oneOf":[{"type":"boolean"}]}]})");
  EXPECT_TRUE(t.has(JsonType::array));
  EXPECT_TRUE(t.has(JsonType::boolean));
  EXPECT_TRUE(types(R"({"enum":["a","b"]})").only_string());
  EXPECT_TRUE(types(R"({"const":3})").has(JsonType::integer));
}

TEST(JsonTyping, UnknownSchemasGiveAnEmptySet) {
  EXPECT_TRUE(types(R"({"$ref":"#/defs/x"})").empty());
  EXPECT_TRUE(types(R"({"type":"nonsense"})").empty());
  EXPECT_TRUE(types("[]").empty());
}

TEST(JsonTyping, DeeplyNestedAnyOfIsBoundedNotRecursedForever) {
  std::string schema = R"({"type":"integer"})";
  for (int i = 0; i < 100; ++i) schema = R"({"anyOf":[)" + schema + "]}";
  EXPECT_TRUE(types(schema.c_str()).empty());
}

TEST(JsonTyping, PropertySchemaFindsDeclaredPropertiesOnly) {
  const Json schema = Json::parse(R"({"type":"object","properties":{"a":{"type":"integer"}}})");
  ASSERT_NE(property_schema(schema, "a"), nullptr);
  EXPECT_EQ(property_schema(schema, "b"), nullptr);
  EXPECT_EQ(property_schema(Json::parse("{}"), "a"), nullptr);
}

TEST(JsonTyping, ConvertParameterProducesTheDeclaredType) {
  EXPECT_EQ(convert_parameter(" 42 ", types(R"({"type":"integer"})")), Json(42));
  EXPECT_EQ(convert_parameter("42", types(R"({"type":"number"})")), Json(42));
  EXPECT_EQ(convert_parameter("4e1", types(R"({"type":"integer"})")), Json(40));
  EXPECT_EQ(convert_parameter("True", types(R"({"type":"boolean"})")), Json(true));
  EXPECT_EQ(convert_parameter("null", types(R"({"type":"null"})")), Json(nullptr));
  EXPECT_EQ(convert_parameter("\"7\"", types(R"({"type":"integer"})")), Json(7));
  EXPECT_EQ(convert_parameter("[1, 'a', None]", types(R"({"type":"array"})")), Json::parse(R"([1,"a",null])"));
  EXPECT_EQ(convert_parameter("{\"a\": {\"b\": [1]}}", types(R"({"type":"object"})")), Json::parse(R"({"a":{"b":[1]}})"));
}

TEST(JsonTyping, ConvertParameterFallsBackToTheRawString) {
  EXPECT_EQ(convert_parameter("12abc", types(R"({"type":"integer"})")), Json("12abc"));
  EXPECT_EQ(convert_parameter("[1,2]", types(R"({"type":"object"})")), Json("[1,2]"));
  EXPECT_EQ(convert_parameter("1e999", types(R"({"type":"integer"})")), Json("1e999"));
  EXPECT_EQ(convert_parameter(" spaced ", types("{}")), Json(" spaced "));
  // A string is allowed: a quoted value keeps its quotes, as the template prints strings bare.
  EXPECT_EQ(convert_parameter("\"q\"", types(R"({"type":["string","null"]})")), Json("\"q\""));
}

TEST(JsonTyping, CoerceValueFixesStringsAndNumbersOfTheWrongType) {
  EXPECT_EQ(coerce_value(Json("5"), types(R"({"type":"integer"})")), Json(5));
  EXPECT_EQ(coerce_value(Json(5), types(R"({"type":"string"})")), Json("5"));
  EXPECT_EQ(coerce_value(Json("x"), types(R"({"type":"integer"})")), Json("x"));
  EXPECT_EQ(coerce_value(Json::parse("[1]"), types("{}")), Json::parse("[1]"));
}

TEST(JsonTyping, EscapingProducesAValidJsonStringBody) {
  std::string s = "\"";
  append_json_escaped(s, "a\"b\\c\n\t\x1f é");
  s += "\"";
  EXPECT_EQ(s, "\"a\\\"b\\\\c\\n\\t\\u001f é\"");
  EXPECT_EQ(Json::parse(s), Json("a\"b\\c\n\t\x1f é"));
}

TEST(ToolCallJson, ExtentEndsWhenTheOutermostBracketCloses) {
  JsonExtent extent;
  const std::string text = R"({"a": "}", "b": [1, {"c": "\"]"}]} trailing)";
  size_t end = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (extent.feed(text[i]) == JsonExtent::Status::complete) {
      end = i + 1;
      break;
    }
  }
  EXPECT_EQ(text.substr(0, end), R"({"a": "}", "b": [1, {"c": "\"]"}]})");
}

TEST(ToolCallJson, MissingClosersListsTheOpenBracketsInnermostFirst) {
  JsonExtent extent;
  for (char c : std::string(R"({"a": [{"b": 1)")) extent.feed(c);
  EXPECT_EQ(extent.missing_closers(), "}]}");
}

TEST(ToolCallJson, ReadsCallsInTheirAcceptedSpellings) {
  auto calls = parse_json_tool_calls(R"({"name": "A", "arguments": {"x": 1}})");
  ASSERT_TRUE(calls);
  ASSERT_EQ(calls->size(), 1u);
  EXPECT_EQ((*calls)[0].name, "A");
  EXPECT_EQ((*calls)[0].arguments, Json::parse(R"({"x":1})"));
  EXPECT_EQ((*parse_json_tool_calls(R"({"name": "A", "parameters": {"y": 2}})"))[0].arguments, Json::parse(R"({"y":2})"));
  EXPECT_EQ((*parse_json_tool_calls(R"({"name": "A", "arguments": "{\"z\": 3}"})"))[0].arguments, Json::parse(R"({"z":3})"));
  EXPECT_EQ((*parse_json_tool_calls(R"({"function": {"name": "F", "arguments": {}}})"))[0].name, "F");
  EXPECT_EQ((*parse_json_tool_calls(R"({"name": "A"})"))[0].arguments, Json::object());
  EXPECT_EQ(parse_json_tool_calls(R"([{"name": "A"}, {"name": "B"}])")->size(), 2u);
}

TEST(ToolCallJson, RejectsTextThatIsNotACall) {
  EXPECT_FALSE(parse_json_tool_calls("{oops"));
  EXPECT_FALSE(parse_json_tool_calls(R"({"arguments": {}})"));
  EXPECT_FALSE(parse_json_tool_calls(R"({"name": 3})"));
  EXPECT_FALSE(parse_json_tool_calls(R"({"name": "A", "arguments": [1]})"));
  EXPECT_FALSE(parse_json_tool_calls(R"({"name": "A", "arguments": "not json"})"));
  EXPECT_FALSE(parse_json_tool_calls("[]"));
}

}  // namespace
}  // namespace hearth::chat
