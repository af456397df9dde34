#pragma once
// UTF-8 helpers shared by the tokenizer, the output parser and the API layer.
#include <cstddef>
#include <string>
#include <string_view>

namespace hearth::utf8 {

// Length of the longest prefix of `s` that ends on a complete UTF-8 character. Bytes after it are the
// start of a character that later bytes may complete (at most 3 bytes are held back). Invalid bytes
// count as complete (they are never going to become valid), so the caller never stalls on them.
size_t complete_prefix_length(std::string_view s);

// True when `s` is entirely well-formed UTF-8 (no overlongs, surrogates or code points over U+10FFFF).
bool is_valid(std::string_view s);

// Replaces each maximal invalid subsequence with U+FFFD, the rule WHATWG and Python's
// bytes.decode(errors="replace") use.
std::string sanitize(std::string_view s);

}  // namespace hearth::utf8
