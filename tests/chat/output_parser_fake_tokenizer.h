#pragma once
// A small Tokenizer for output parser tests and the fuzz target. Ids 0..255 are the single bytes, then
// the special tokens the Qwen format uses, then multi-byte pieces chosen to straddle tag boundaries
// (">\n<", "</para", ...). Tests can intern any further piece, so a text can be fed in any segmentation.
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "chat/tokenizer.h"

namespace hearth::chat::parser_test {

class FakeTokenizer : public Tokenizer {
 public:
  static constexpr const char* kSpecials[] = {"<think>", "</think>", "<tool_call>", "</tool_call>",
                                              "<|im_end|>", "<|endoftext|>", "<|im_start|>"};

  FakeTokenizer() {
    for (int b = 0; b < 256; ++b) add(std::string(1, static_cast<char>(b)), false);
    for (const char* s : kSpecials) add(s, true);
    for (const char* s : {"\n", "\n\n", ">\n", ">\n<", "\n</", "</", "<", ">", "<function=", "function",
                          "<parameter=", "parameter", "</parameter>", "</para", "meter>", "</function>",
                          "=", "tool", "_call", "think", "Bash", "command", "{\"", "\":", "\"}", "}}",
                          "\"name\"", "\"arguments\"", "true", "True", "None", "null", "é", "中文", "😀",
                          " the", "ls -la", "\xF0\x9F", "\x98\x80", "\xE4\xB8", "\xAD"})
      intern(s);
  }

  // Id of `piece`, adding it as an ordinary (non-special) token if it is new.
  Token intern(std::string_view piece) {
    auto it = ordinary_.find(std::string(piece));
    if (it != ordinary_.end()) return it->second;
    return add(std::string(piece), false);
  }

  // Greedy longest match over all pieces; special tokens are matched as such.
  std::vector<Token> encode(std::string_view text) const override {
    std::vector<Token> out;
    size_t i = 0;
    while (i < text.size()) {
      Token best = static_cast<unsigned char>(text[i]);
      size_t best_len = 1;
      for (const auto& [piece, id] : all_) {
        if (piece.size() > best_len && text.substr(i, piece.size()) == piece) {
          best = id;
          best_len = piece.size();
        }
      }
      out.push_back(best);
      i += best_len;
    }
    return out;
  }
  std::string decode(std::span<const Token> ids) const override {
    std::string s;
    for (Token id : ids) s += token_bytes(id);
    return s;
  }
  const std::string& token_bytes(Token id) const override {
    if (id < 0 || static_cast<size_t>(id) >= pieces_.size()) throw std::out_of_range("FakeTokenizer id");
    return pieces_[static_cast<size_t>(id)];
  }
  std::optional<Token> token_id(std::string_view piece) const override {
    auto it = all_.find(std::string(piece));
    if (it == all_.end()) return std::nullopt;
    return it->second;
  }
  int64_t vocab_size() const override { return static_cast<int64_t>(pieces_.size()); }
  bool is_special(Token id) const { return special_ids_.count(id) != 0; }

 private:
  Token add(std::string piece, bool special) {
    const Token id = static_cast<Token>(pieces_.size());
    pieces_.push_back(piece);
    if (special) {
      special_ids_[id] = true;
      all_[piece] = id;
    } else {
      if (!all_.count(piece)) all_[piece] = id;
      ordinary_[piece] = id;
    }
    return id;
  }

  std::vector<std::string> pieces_;
  std::map<std::string, Token> all_;       // specials win for their text
  std::map<std::string, Token> ordinary_;  // never a special
  std::map<Token, bool> special_ids_;
};

}  // namespace hearth::chat::parser_test
