#pragma once
// Byte-level BPE tokenizer loaded from a Hugging Face tokenizer.json (the file every Qwen model directory
// carries): NFC normaliser, regex pre-tokeniser, byte-level mapping, merges by rank, added/special tokens
// matched before BPE. Encoding is exact against the reference implementation (tests/chat/).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hearth::chat {

using Token = int32_t;

class Tokenizer {
 public:
  // Loads `path` (a tokenizer.json, or a directory holding one). Throws hearth::Error naming the
  // problem for a missing or malformed file.
  static std::shared_ptr<const Tokenizer> load(const std::filesystem::path& path);
  virtual ~Tokenizer() = default;

  // All methods are thread-safe.

  // Text to ids. Added tokens (specials like <|im_start|>) in the text are recognised as such.
  // Invalid UTF-8 in `text` is first replaced by U+FFFD per maximal invalid subsequence (utf8::sanitize).
  // Nothing is added around the text (no BOS/EOS): special tokens appear only where the text has them.
  virtual std::vector<Token> encode(std::string_view text) const = 0;
  // Ids to bytes (special tokens included as their text). May end in a partial UTF-8 character.
  // Throws hearth::Error for an id outside [0, vocab_size()).
  virtual std::string decode(std::span<const Token> ids) const = 0;
  // The bytes of one token (byte-level decoded), or its text for an added token. Throws hearth::Error
  // for an id outside [0, vocab_size()); an id inside it that no token uses has empty bytes.
  virtual const std::string& token_bytes(Token id) const = 0;
  // Id of an added/special token or vocabulary entry given by its exact text, if any. The text is
  // compared with token_bytes() (so "\n" finds the newline token; the byte-level spelling "Ċ" does not).
  virtual std::optional<Token> token_id(std::string_view piece) const = 0;
  // One past the largest id (vocabulary plus added tokens).
  virtual int64_t vocab_size() const = 0;
  // Memory held by caches of encoded text (bounded by the implementation; 0 when it has none).
  virtual size_t cache_bytes() const { return 0; }
};

// Turns a token stream into text without ever splitting a UTF-8 character: bytes of an incomplete
// character are held until the tokens that complete it arrive.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {}
  // Returns the newly completed text (possibly empty).
  std::string push(Token id);
  // Returns whatever is still held (an incomplete character at the end of the stream), sanitized.
  std::string finish();

 private:
  const Tokenizer& tokenizer_;
  std::string pending_;
};

}  // namespace hearth::chat
