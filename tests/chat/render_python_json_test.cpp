// Python's text forms (json.dumps with transformers' settings, str(), str.strip()) that the chat
// templates print; each expectation below is what CPython 3 prints for the same value.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "chat/python_json.h"
#include "chat/render_text.h"
#include "util/error.h"

namespace hearth::chat {
namespace {

using Json = nlohmann::ordered_json;

TEST(PythonFloatRepr, UsesFixedNotationForExponentsFromMinus4To15) {
  EXPECT_EQ(python_float_repr(1.5), "1.5");
  EXPECT_EQ(python_float_repr(100.0), "100.0");
  EXPECT_EQ(python_float_repr(0.0001), "0.0001");
  EXPECT_EQ(python_float_repr(1e15), "1000000000000000.0");
  EXPECT_EQ(python_float_repr(123456789.125), "123456789.125");
  EXPECT_EQ(python_float_repr(0.1), "0.1");
  EXPECT_EQ(python_float_repr(0.30000000000000004), "0.30000000000000004");
}

TEST(PythonFloatRepr, UsesExponentNotationWithTwoDigitExponentsOutsideThatRange) {
  EXPECT_EQ(python_float_repr(1e16), "1e+16");
  EXPECT_EQ(python_float_repr(1e-05), "1e-05");
  EXPECT_EQ(python_float_repr(1.5e-07), "1.5e-07");
  EXPECT_EQ(python_float_repr(1e100), "1e+100");
  EXPECT_EQ(python_float_repr(-2.5e22), "-2.5e+22");
  EXPECT_EQ(python_float_repr(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(python_float_repr(5e-324), "5e-324");
}

TEST(PythonFloatRepr, WritesZerosAndNonFiniteValuesLikePython) {
  EXPECT_EQ(python_float_repr(0.0), "0.0");
  EXPECT_EQ(python_float_repr(-0.0), "-0.0");
  EXPECT_EQ(python_float_repr(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(python_float_repr(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(python_float_repr(std::nan("")), "nan");
}

TEST(PythonJsonDumps, UsesCommaSpaceAndColonSpaceSeparatorsAndKeepsKeyOrder) {
  const Json v = Json::parse(R"({"b": 1, "a": [1, 2.0, {"z": null, "y": true}], "c": {}, "d": []})");
  EXPECT_EQ(python_json_dumps(v), R"({"b": 1, "a": [1, 2.0, {"z": null, "y": true}], "c": {}, "d": []})");
}

TEST(PythonJsonDumps, WritesNonAsciiAsIsAndEscapesControlCharactersInLowercaseHex) {
  const Json v = std::string("é 日本 🚀 \"q\" \\ \b\f\n\r\t \x01\x1f \x7f <b>&'");
  EXPECT_EQ(python_json_dumps(v), "\"é 日本 🚀 \\\"q\\\" \\\\ \\b\\f\\n\\r\\t \\u0001\\u001f \x7f <b>&'\"");
}

TEST(PythonJsonDumps, WritesIntegersOfFullRangeAndFloatsAsRepr) {
  EXPECT_EQ(python_json_dumps(Json::parse("[12345678901234567890, -9223372036854775808, 1.0, 1e16, -0.0, 0]")),
            "[12345678901234567890, -9223372036854775808, 1.0, 1e+16, -0.0, 0]");
}

TEST(PythonJsonDumps, WritesNonFiniteFloatsAsJavaScriptNames) {
  Json v = Json::array({std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                        std::nan("")});
  EXPECT_EQ(python_json_dumps(v), "[Infinity, -Infinity, NaN]");
}

TEST(PythonStr, PrintsScalarsAsPythonsStrDoes) {
  EXPECT_EQ(python_str(Json(true)), "True");
  EXPECT_EQ(python_str(Json(false)), "False");
  EXPECT_EQ(python_str(Json(nullptr)), "None");
  EXPECT_EQ(python_str(Json(-7)), "-7");
  EXPECT_EQ(python_str(Json(18446744073709551615ull)), "18446744073709551615");
  EXPECT_EQ(python_str(Json(2.0)), "2.0");
  EXPECT_EQ(python_str(Json(1e-7)), "1e-07");
  EXPECT_EQ(python_str(Json("  text\n")), "  text\n");
}

TEST(PythonStr, RefusesContainersWithAnInternalError) {
  EXPECT_THROW(python_str(Json::object()), Error);
  EXPECT_THROW(python_str(Json::array()), Error);
}

TEST(PythonStrip, RemovesEveryCharacterPythonCallsWhitespace) {
  EXPECT_EQ(python_strip(" \t\n\r\x0b\x0c x \x1c\x1d\x1e\x1f"), "x");
  EXPECT_EQ(python_strip("\u00a0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000\u0085x\u3000"), "x");
  EXPECT_EQ(python_lstrip("  a b  "), "a b  ");
  EXPECT_EQ(python_rstrip("  a b  "), "  a b");
}

TEST(PythonStrip, KeepsNonWhitespaceLookalikesAndInvalidBytes) {
  // Zero-width space and BOM are not whitespace for Python; nor are invalid UTF-8 bytes.
  EXPECT_EQ(python_strip("\u200bx\ufeff"), "\u200bx\ufeff");
  EXPECT_EQ(python_strip("\xff x \xc2"), "\xff x \xc2");
  EXPECT_EQ(python_strip("   "), "");
  EXPECT_EQ(python_strip(""), "");
  EXPECT_EQ(python_strip("\xa0"), "\xa0");  // a lone continuation byte, not U+00A0
}

TEST(PythonStripChar, StripsOnlyTheGivenCharacter) {
  EXPECT_EQ(strip_char("\n\n a \n", '\n'), " a ");
  EXPECT_EQ(lstrip_char("\n\na\n", '\n'), "a\n");
  EXPECT_EQ(rstrip_char("\n\na\n", '\n'), "\n\na");
}

TEST(PythonIsspace, MatchesPythonOnTheBoundaries) {
  EXPECT_TRUE(python_isspace(0x1C));
  EXPECT_FALSE(python_isspace(0x1B));
  EXPECT_TRUE(python_isspace(0x200A));
  EXPECT_FALSE(python_isspace(0x200B));
  EXPECT_FALSE(python_isspace(0x180E));  // Mongolian vowel separator: no longer whitespace
}

}  // namespace
}  // namespace hearth::chat
