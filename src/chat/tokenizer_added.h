#pragma once
// Finds added tokens (<|im_start|>, <think>, ...) in text, the way Hugging Face tokenizers does:
// leftmost-longest, non-overlapping matches; a single_word token is skipped where a word character
// touches it; lstrip/rstrip tokens swallow the whitespace beside them (never past the previous match).
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/tokenizer_spec.h"

namespace hearth::chat {

class AddedTokenMatcher {
 public:
  // `tokens` are matched by their `content` exactly as given (the caller normalises the contents of
  // normalized=true tokens first).
  explicit AddedTokenMatcher(std::vector<AddedTokenSpec> tokens);

  bool empty() const { return tokens_.empty(); }

  // Walks `text` in order, calling `on_text` for each stretch between matches (never empty) and
  // `on_token` for each matched added token.
  void split(std::string_view text, const std::function<void(std::string_view)>& on_text,
             const std::function<void(Token)>& on_token) const;

 private:
  struct Node {
    std::vector<std::pair<unsigned char, int>> children;
    int token = -1;  // index into tokens_ of the token ending here
  };
  // Longest token starting at `pos`: index into tokens_ and its length, or {-1, 0}.
  std::pair<int, size_t> longest_at(std::string_view text, size_t pos) const;

  std::vector<AddedTokenSpec> tokens_;
  std::vector<Node> trie_;
  bool starts_token_[256] = {};
};

}  // namespace hearth::chat
