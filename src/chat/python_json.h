#pragma once
// Python's text forms of JSON values, as the chat templates print them. Hugging Face transformers renders
// chat templates with its own `tojson` filter, json.dumps(x, ensure_ascii=False, sort_keys=False): key
// order kept, separators ", " and ": ", non-ASCII written as is, floats in Python's shortest repr. The
// Qwen3.5 template prints scalar tool arguments with `|string`, which is Python's str(): True/False/None.
// nlohmann's dump() differs in all of these, so the renderers use these functions instead.
#include <string>

#include <nlohmann/json.hpp>

namespace hearth::chat {

// json.dumps(value, ensure_ascii=False) of the Python object json.loads would make of `value`.
// Non-finite floats print as NaN / Infinity / -Infinity, as Python does.
std::string python_json_dumps(const nlohmann::ordered_json& value);
void append_python_json(std::string& out, const nlohmann::ordered_json& value);

// str() of a scalar: strings as is, True/False, None, integers in decimal, floats as repr().
// Throws hearth::Error(internal) for an object or array (Python would print its repr, which the
// templates never ask for: they print containers with tojson).
std::string python_str(const nlohmann::ordered_json& scalar);

// repr() of a Python float: the shortest string that reads back to the same double, in fixed notation
// for exponents -4..15 ("0.0001", "1e+16", "1.5", "100.0", "-0.0"), "inf"/"-inf"/"nan" otherwise.
std::string python_float_repr(double value);

// A JSON string literal the way json.dumps(ensure_ascii=False) writes it: \" \\ \b \f \n \r \t, other
// control characters as \u00XX (lowercase hex), everything else byte for byte.
void append_python_json_string(std::string& out, std::string_view text);

}  // namespace hearth::chat
