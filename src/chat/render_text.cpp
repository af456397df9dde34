#include "chat/render_text.h"

#include <cstdint>

namespace hearth::chat {

bool python_isspace(char32_t cp) {
  // Python: bidirectional class WS, B or S, or general category Zs.
  if (cp >= 0x09 && cp <= 0x0D) return true;
  if (cp >= 0x1C && cp <= 0x20) return true;
  if (cp < 0x85) return false;
  switch (cp) {
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

namespace {

// Decodes the well-formed UTF-8 character of `len` bytes at `p`, or returns false.
bool decode(const unsigned char* p, size_t len, char32_t& cp) {
  if (len == 1) {
    if (p[0] >= 0x80) return false;
    cp = p[0];
    return true;
  }
  unsigned lead_bits = len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07;
  unsigned lead_tag = len == 2 ? 0xC0 : len == 3 ? 0xE0 : 0xF0;
  if ((p[0] & ~lead_bits & 0xFF) != lead_tag) return false;
  char32_t v = p[0] & lead_bits;
  for (size_t i = 1; i < len; ++i) {
    if ((p[i] & 0xC0) != 0x80) return false;
    v = (v << 6) | (p[i] & 0x3F);
  }
  static constexpr char32_t min_value[] = {0, 0, 0x80, 0x800, 0x10000};
  if (v < min_value[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return false;
  cp = v;
  return true;
}

size_t sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 0;
}

// Bytes of the whitespace character that starts `s`, or 0.
size_t leading_space(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t len = sequence_length(p[0]);
  char32_t cp;
  if (len == 0 || len > s.size() || !decode(p, len, cp)) return 0;
  return python_isspace(cp) ? len : 0;
}

// Bytes of the whitespace character that ends `s`, or 0.
size_t trailing_space(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t start = s.size() - 1;
  // Step back over at most three continuation bytes to the lead byte.
  while (start > 0 && s.size() - start < 4 && (p[start] & 0xC0) == 0x80) --start;
  const size_t len = s.size() - start;
  char32_t cp;
  if (sequence_length(p[start]) != len || !decode(p + start, len, cp)) return 0;
  return python_isspace(cp) ? len : 0;
}

}  // namespace

std::string_view python_lstrip(std::string_view s) {
  while (!s.empty()) {
    const size_t n = leading_space(s);
    if (n == 0) break;
    s.remove_prefix(n);
  }
  return s;
}

std::string_view python_rstrip(std::string_view s) {
  while (!s.empty()) {
    const size_t n = trailing_space(s);
    if (n == 0) break;
    s.remove_suffix(n);
  }
  return s;
}

std::string_view python_strip(std::string_view s) { return python_rstrip(python_lstrip(s)); }

std::string_view lstrip_char(std::string_view s, char c) {
  while (!s.empty() && s.front() == c) s.remove_prefix(1);
  return s;
}

std::string_view rstrip_char(std::string_view s, char c) {
  while (!s.empty() && s.back() == c) s.remove_suffix(1);
  return s;
}

std::string_view strip_char(std::string_view s, char c) { return rstrip_char(lstrip_char(s, c), c); }

}  // namespace hearth::chat
