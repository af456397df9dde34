#include "chat/python_json.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "util/error.h"

namespace hearth::chat {

std::string python_float_repr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";

  // std::to_chars in scientific form gives the shortest round-trip digits, the same digits Python's
  // repr() picks (both are "shortest string that reads back to the same double"); only the layout
  // differs, and that is rebuilt below with Python's rule.
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  const std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));  // e.g. "-1.25e+03"
  const size_t e_pos = sci.find('e');
  std::string_view mantissa = sci.substr(0, e_pos);
  const int exponent = std::atoi(std::string(sci.substr(e_pos + 1)).c_str());

  std::string out;
  if (!mantissa.empty() && mantissa[0] == '-') {
    out.push_back('-');
    mantissa.remove_prefix(1);
  }
  std::string digits;
  for (char c : mantissa) {
    if (c != '.') digits.push_back(c);
  }

  // Python (float_repr_style "short", repr mode): decimal point position decpt = exponent + 1; fixed
  // notation when -4 < decpt <= 16, otherwise exponential with at least two exponent digits.
  const int decpt = exponent + 1;
  if (decpt > -4 && decpt <= 16) {
    const int n = static_cast<int>(digits.size());
    if (decpt <= 0) {
      out += "0.";
      out.append(static_cast<size_t>(-decpt), '0');
      out += digits;
    } else if (decpt >= n) {
      out += digits;
      out.append(static_cast<size_t>(decpt - n), '0');
      out += ".0";
    } else {
      out += digits.substr(0, static_cast<size_t>(decpt));
      out.push_back('.');
      out += digits.substr(static_cast<size_t>(decpt));
    }
    return out;
  }
  out.push_back(digits[0]);
  if (digits.size() > 1) {
    out.push_back('.');
    out += digits.substr(1);
  }
  char exp_buf[16];
  std::snprintf(exp_buf, sizeof exp_buf, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
  out += exp_buf;
  return out;
}

void append_python_json_string(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(hex[c >> 4]);
          out.push_back(hex[c & 0xF]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

namespace {

void append_json_float(std::string& out, double value) {
  // json.dumps writes the non-finite values as JavaScript names (allow_nan=True, the default).
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value < 0 ? "-Infinity" : "Infinity";
  } else {
    out += python_float_repr(value);
  }
}

}  // namespace

void append_python_json(std::string& out, const nlohmann::ordered_json& value) {
  using Type = nlohmann::ordered_json::value_t;
  switch (value.type()) {
    case Type::null: out += "null"; return;
    case Type::boolean: out += value.get<bool>() ? "true" : "false"; return;
    case Type::number_integer: out += std::to_string(value.get<int64_t>()); return;
    case Type::number_unsigned: out += std::to_string(value.get<uint64_t>()); return;
    case Type::number_float: append_json_float(out, value.get<double>()); return;
    case Type::string: append_python_json_string(out, value.get_ref<const std::string&>()); return;
    case Type::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : value) {
        if (!first) out += ", ";
        first = false;
        append_python_json(out, item);
      }
      out.push_back(']');
      return;
    }
    case Type::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [key, item] : value.items()) {
        if (!first) out += ", ";
        first = false;
        append_python_json_string(out, key);
        out += ": ";
        append_python_json(out, item);
      }
      out.push_back('}');
      return;
    }
    case Type::binary:
    case Type::discarded:
      break;
  }
  throw Error("python_json_dumps: a JSON value of a kind Python's json module cannot hold", ErrorKind::internal);
}

std::string python_json_dumps(const nlohmann::ordered_json& value) {
  std::string out;
  append_python_json(out, value);
  return out;
}

std::string python_str(const nlohmann::ordered_json& scalar) {
  using Type = nlohmann::ordered_json::value_t;
  switch (scalar.type()) {
    case Type::null: return "None";
    case Type::boolean: return scalar.get<bool>() ? "True" : "False";
    case Type::number_integer: return std::to_string(scalar.get<int64_t>());
    case Type::number_unsigned: return std::to_string(scalar.get<uint64_t>());
    case Type::number_float: return python_float_repr(scalar.get<double>());
    case Type::string: return scalar.get<std::string>();
    default: break;
  }
  throw Error("python_str: only scalars are printed with str(); containers go through tojson",
              ErrorKind::internal);
}

}  // namespace hearth::chat
