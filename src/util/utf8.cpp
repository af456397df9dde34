#include "util/utf8.h"

#include <cstdint>

namespace hearth::utf8 {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when the bytes there are not one (either
// invalid, or truncated by the end of `s`; `truncated` tells which).
size_t sequence_length(std::string_view s, size_t i, bool& truncated) {
  truncated = false;
  const auto b0 = static_cast<uint8_t>(s[i]);
  if (b0 < 0x80) return 1;
  size_t need;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 3;
    if (b0 == 0xE0) lo = 0xA0;       // no overlongs
    if (b0 == 0xED) hi = 0x9F;       // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;       // <= U+10FFFF
  } else {
    return 0;
  }
  for (size_t k = 1; k < need; ++k) {
    if (i + k >= s.size()) {
      truncated = true;
      return 0;
    }
    const auto b = static_cast<uint8_t>(s[i + k]);
    const uint8_t l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (b < l || b > h) return 0;
  }
  return need;
}

}  // namespace

size_t complete_prefix_length(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    bool truncated;
    const size_t n = sequence_length(s, i, truncated);
    if (n == 0) {
      if (truncated) return i;  // may still be completed by later bytes
      ++i;                      // invalid: never completes, pass it on
    } else {
      i += n;
    }
  }
  return i;
}

bool is_valid(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    bool truncated;
    const size_t n = sequence_length(s, i, truncated);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string sanitize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    bool truncated;
    const size_t n = sequence_length(s, i, truncated);
    if (n > 0) {
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    // Maximal subpart: a lead byte followed by the valid continuation bytes it admits counts as one error.
    size_t j = i + 1;
    const auto b0 = static_cast<uint8_t>(s[i]);
    if (b0 >= 0xC2 && b0 <= 0xF4) {
      while (j < s.size() && j < i + 4 && (static_cast<uint8_t>(s[j]) & 0xC0) == 0x80) {
        bool t;
        // Stop at the first byte that makes the prefix impossible.
        std::string_view probe = s.substr(i, j - i + 1);
        if (sequence_length(probe, 0, t) == 0 && !t) break;
        ++j;
      }
    }
    out.append("\xEF\xBF\xBD");
    i = j;
  }
  return out;
}

}  // namespace hearth::utf8
