#pragma once
// Markup recognition for the output parser: where in a piece of decoded text the next tag of interest
// starts, and whether the text ends in something that may still become one (the only text the parser
// holds back). Every tag starts with '<', which is ASCII, so a cut there never splits a UTF-8 character.
#include <cstddef>
#include <cstring>
#include <initializer_list>
#include <string_view>

namespace hearth::chat {

namespace tag {
inline constexpr std::string_view think_open = "<think>";
inline constexpr std::string_view think_close = "</think>";
inline constexpr std::string_view call_open = "<tool_call>";
inline constexpr std::string_view call_close = "</tool_call>";
inline constexpr std::string_view function_open = "<function=";  // followed by NAME>
inline constexpr std::string_view function_close = "</function>";
inline constexpr std::string_view parameter_open = "<parameter=";  // followed by KEY>
inline constexpr std::string_view parameter_close = "</parameter>";
}  // namespace tag

struct TagMatch {
  size_t pos = 0;          // bytes before this are plain content
  std::string_view tag;    // the tag found at pos; empty when none
  bool partial = false;    // text from pos to the end is a proper prefix of a tag: wait for more
  bool found() const { return !tag.empty(); }
};

// The first tag of `tags` in `s`. Without one, pos is s.size(), or the start of a trailing proper prefix
// of a tag (partial) unless `at_end` says no more text will come.
inline TagMatch find_tag(std::string_view s, std::initializer_list<std::string_view> tags, bool at_end) {
  size_t i = 0;
  while (i < s.size()) {
    const void* lt = std::memchr(s.data() + i, '<', s.size() - i);
    if (lt == nullptr) break;
    i = static_cast<size_t>(static_cast<const char*>(lt) - s.data());
    const std::string_view rest = s.substr(i);
    bool partial = false;
    for (std::string_view t : tags) {
      if (rest.substr(0, t.size()) == t) return TagMatch{i, t, false};
      if (!at_end && rest.size() < t.size() && t.substr(0, rest.size()) == rest) partial = true;
    }
    if (partial) return TagMatch{i, {}, true};
    ++i;
  }
  return TagMatch{s.size(), {}, false};
}

// Like find_tag, but only at the very start of `s`.
inline TagMatch match_tag_at_start(std::string_view s, std::initializer_list<std::string_view> tags,
                                   bool at_end) {
  bool partial = false;
  for (std::string_view t : tags) {
    if (s.substr(0, t.size()) == t) return TagMatch{0, t, false};
    if (!at_end && s.size() < t.size() && t.substr(0, s.size()) == s) partial = true;
  }
  return TagMatch{0, {}, partial};
}

inline bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
inline bool is_space(char c) { return is_json_space(c) || c == '\f' || c == '\v'; }

inline std::string_view trim_space(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

}  // namespace hearth::chat
