#include "chat/tokenizer_added.h"

#include <utf8proc.h>

namespace hearth::chat {
namespace {

// Code point starting at s[i] (s is valid UTF-8), and its length.
char32_t decode_at(std::string_view s, size_t i, size_t& length) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  length = b0 < 0x80 ? 1 : b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4;
  char32_t c = length == 1 ? b0 : length == 2 ? (b0 & 0x1F) : length == 3 ? (b0 & 0x0F) : (b0 & 0x07);
  for (size_t k = 1; k < length && i + k < s.size(); ++k) c = (c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return c;
}

// Start of the code point that ends at s[end - 1].
size_t previous_start(std::string_view s, size_t end) {
  size_t i = end - 1;
  while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
  return i;
}

// Unicode White_Space, the set Rust's char::is_whitespace and regex \s use (HF strips with these).
bool is_white_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Word character for single_word tokens: HF uses Rust regex \w (Alphabetic, marks, decimal digits,
// connector punctuation, joiners). Approximated by general category: letters, marks, Nd, Nl, Pc, ZWNJ/ZWJ.
bool is_word_char(char32_t c) {
  if (c == 0x200C || c == 0x200D) return true;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_PC:
      return true;
    default:
      return false;
  }
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedTokenSpec> tokens) : tokens_(std::move(tokens)) {
  trie_.emplace_back();
  for (size_t t = 0; t < tokens_.size(); ++t) {
    const std::string& content = tokens_[t].content;
    if (content.empty()) continue;
    starts_token_[static_cast<unsigned char>(content[0])] = true;
    int node = 0;
    for (unsigned char b : content) {
      int child = -1;
      for (const auto& [byte, index] : trie_[node].children) {
        if (byte == b) child = index;
      }
      if (child < 0) {
        child = static_cast<int>(trie_.size());
        trie_[node].children.emplace_back(b, child);
        trie_.emplace_back();
      }
      node = child;
    }
    if (trie_[node].token < 0) trie_[node].token = static_cast<int>(t);  // first listing wins
  }
}

std::pair<int, size_t> AddedTokenMatcher::longest_at(std::string_view text, size_t pos) const {
  int node = 0, found = -1;
  size_t found_length = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    const auto b = static_cast<unsigned char>(text[i]);
    int child = -1;
    for (const auto& [byte, index] : trie_[node].children) {
      if (byte == b) {
        child = index;
        break;
      }
    }
    if (child < 0) break;
    node = child;
    if (trie_[node].token >= 0) {
      found = trie_[node].token;
      found_length = i + 1 - pos;
    }
  }
  return {found, found_length};
}

void AddedTokenMatcher::split(std::string_view text, const std::function<void(std::string_view)>& on_text,
                              const std::function<void(Token)>& on_token) const {
  size_t emitted = 0;  // end of the previous match: text before it has been handed out
  size_t pos = 0;
  while (pos < text.size()) {
    if (!starts_token_[static_cast<unsigned char>(text[pos])]) {
      ++pos;
      continue;
    }
    const auto [index, length] = longest_at(text, pos);
    if (index < 0) {
      ++pos;
      continue;
    }
    const AddedTokenSpec& token = tokens_[index];
    size_t start = pos, stop = pos + length;
    if (token.single_word) {
      size_t len = 0;
      const bool word_before = start > 0 && is_word_char(decode_at(text, previous_start(text, start), len));
      const bool word_after = stop < text.size() && is_word_char(decode_at(text, stop, len));
      if (word_before || word_after) {
        // Skipped like HF's non-overlapping match iteration: the text it covered is not re-searched.
        pos = stop;
        continue;
      }
    }
    if (token.lstrip) {
      while (start > emitted) {
        size_t len = 0;
        const size_t prev = previous_start(text, start);
        if (!is_white_space(decode_at(text, prev, len))) break;
        start = prev;
      }
    }
    if (token.rstrip) {
      while (stop < text.size()) {
        size_t len = 0;
        if (!is_white_space(decode_at(text, stop, len))) break;
        stop += len;
      }
    }
    if (start > emitted) on_text(text.substr(emitted, start - emitted));
    on_token(token.id);
    emitted = stop;
    pos = stop;
  }
  if (emitted < text.size()) on_text(text.substr(emitted));
}

}  // namespace hearth::chat
