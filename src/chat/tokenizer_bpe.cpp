#include "chat/tokenizer_bpe.h"

#include <algorithm>

#include "chat/tokenizer_normalizer.h"
#include "util/error.h"
#include "util/utf8.h"

namespace hearth::chat {
namespace {

std::vector<AddedTokenSpec> select_added(const TokenizerSpec& spec, bool normalized) {
  std::vector<AddedTokenSpec> out;
  for (const AddedTokenSpec& t : spec.added_tokens) {
    if (t.normalized != normalized) continue;
    AddedTokenSpec copy = t;
    // HF matches a normalized=true token by its normalised content, in normalised text.
    if (normalized) {
      std::string storage;
      copy.content = std::string(normalize_text(spec.normalization, t.content, storage));
    }
    out.push_back(std::move(copy));
  }
  return out;
}

}  // namespace

ByteLevelBpeTokenizer::ByteLevelBpeTokenizer(const TokenizerSpec& spec)
    : normalization_(spec.normalization),
      model_(spec.model, spec.source),
      pre_tokenizer_(spec.pre_tokenizer, spec.source),
      raw_added_(select_added(spec, false)),
      normalized_added_(select_added(spec, true)) {
  vocab_size_ = model_.id_limit();
  for (const AddedTokenSpec& t : spec.added_tokens) {
    if (!utf8::is_valid(t.content)) {
      throw Error(spec.source + ": added token " + std::to_string(t.id) + " is not valid UTF-8", ErrorKind::invalid_request);
    }
    added_text_[t.id] = t.content;
    added_id_.emplace(t.content, t.id);
    vocab_size_ = std::max<int64_t>(vocab_size_, int64_t{t.id} + 1);
  }
}

void ByteLevelBpeTokenizer::encode_section(std::string_view section, std::vector<Token>& out) const {
  std::string storage;
  const std::string_view normalized = normalize_text(normalization_, section, storage);
  auto encode_words = [&](std::string_view text) {
    pre_tokenizer_.split(text, [&](std::string_view word) { model_.encode_word(word, out); });
  };
  auto push_token = [&](Token id) { out.push_back(id); };
  if (normalized_added_.empty()) {
    encode_words(normalized);
  } else {
    normalized_added_.split(normalized, encode_words, push_token);
  }
}

std::vector<Token> ByteLevelBpeTokenizer::encode(std::string_view text) const {
  // Invalid UTF-8 becomes U+FFFD per maximal invalid subsequence (the WHATWG / Python "replace" rule),
  // the string any UTF-8 decoder in front of the reference tokenizers would have produced.
  std::string sanitized;
  if (!utf8::is_valid(text)) {
    sanitized = utf8::sanitize(text);
    text = sanitized;
  }
  std::vector<Token> out;
  out.reserve(text.size() / 3 + 4);
  raw_added_.split(
      text, [&](std::string_view section) { encode_section(section, out); },
      [&](Token id) { out.push_back(id); });
  return out;
}

const std::string& ByteLevelBpeTokenizer::token_bytes(Token id) const {
  if (auto it = added_text_.find(id); it != added_text_.end()) return it->second;
  if (const std::string* bytes = model_.token_bytes(id)) return *bytes;
  if (id < 0 || id >= vocab_size_) {
    throw Error("token id " + std::to_string(id) + " is outside the vocabulary [0, " + std::to_string(vocab_size_) + ")",
                ErrorKind::invalid_request);
  }
  static const std::string kNoToken;  // an id inside the range that no token uses decodes to nothing
  return kNoToken;
}

std::string ByteLevelBpeTokenizer::decode(std::span<const Token> ids) const {
  std::string out;
  for (Token id : ids) out += token_bytes(id);
  return out;
}

std::optional<Token> ByteLevelBpeTokenizer::token_id(std::string_view piece) const {
  if (auto it = added_id_.find(std::string(piece)); it != added_id_.end()) return it->second;
  return model_.find_bytes(piece);
}

}  // namespace hearth::chat
