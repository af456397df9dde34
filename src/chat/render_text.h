#pragma once
// Python string operations the chat templates apply, with Python's exact semantics on UTF-8 text.
// Jinja's `trim` filter is Python's str.strip(): it removes every character for which str.isspace() is
// true, which includes Unicode spaces (U+00A0, U+3000, ...) and the separators U+001C..U+001F, not only
// ASCII whitespace. Getting this wrong changes the prompt of a message that ends in, say, an
// ideographic space.
#include <string_view>

namespace hearth::chat {

// True for the code points Python's str.isspace() accepts.
bool python_isspace(char32_t cp);

// str.strip() / lstrip() / rstrip() with no argument (Python whitespace). Bytes that are not valid UTF-8
// never count as whitespace.
std::string_view python_strip(std::string_view s);
std::string_view python_lstrip(std::string_view s);
std::string_view python_rstrip(std::string_view s);

// str.strip(c) / lstrip(c) / rstrip(c) for one ASCII character (the templates strip '\n').
std::string_view strip_char(std::string_view s, char c);
std::string_view lstrip_char(std::string_view s, char c);
std::string_view rstrip_char(std::string_view s, char c);

}  // namespace hearth::chat
