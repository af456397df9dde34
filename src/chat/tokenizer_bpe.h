#pragma once
// The byte-level BPE tokenizer behind Tokenizer::load: added tokens, normaliser, pre-tokeniser and BPE
// model assembled as a Hugging Face tokenizer.json describes them.
#include <string>
#include <unordered_map>
#include <vector>

#include "chat/bpe_model.h"
#include "chat/pretokenizer.h"
#include "chat/tokenizer.h"
#include "chat/tokenizer_added.h"
#include "chat/tokenizer_spec.h"

namespace hearth::chat {

class ByteLevelBpeTokenizer final : public Tokenizer {
 public:
  explicit ByteLevelBpeTokenizer(const TokenizerSpec& spec);

  std::vector<Token> encode(std::string_view text) const override;
  std::string decode(std::span<const Token> ids) const override;
  const std::string& token_bytes(Token id) const override;
  std::optional<Token> token_id(std::string_view piece) const override;
  int64_t vocab_size() const override { return vocab_size_; }
  size_t cache_bytes() const override { return model_.cache_bytes(); }

 private:
  // Text between raw-matched added tokens: normalise, match normalised added tokens, pre-tokenise, BPE.
  void encode_section(std::string_view section, std::vector<Token>& out) const;

  Normalization normalization_;
  BpeModel model_;
  PreTokenizer pre_tokenizer_;
  AddedTokenMatcher raw_added_;         // normalized=false tokens, matched in the text as given
  AddedTokenMatcher normalized_added_;  // normalized=true tokens, matched after normalisation
  std::unordered_map<Token, std::string> added_text_;
  std::unordered_map<std::string, Token> added_id_;
  int64_t vocab_size_ = 0;
};

}  // namespace hearth::chat
