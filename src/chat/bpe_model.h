#pragma once
// The BPE model: a pre-token's bytes become the byte tokens, then adjacent pairs are merged, always the
// pair of lowest merge rank first and the leftmost of equal pairs first, until no pair has a merge.
// That is the order Hugging Face tokenizers applies; both merge algorithms below produce it.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "chat/tokenizer.h"
#include "chat/tokenizer_spec.h"

namespace hearth::chat {

enum class MergeAlgorithm {
  automatic,  // scan for short words, heap for long ones
  scan,       // O(n^2): fastest for the few-byte words that make up nearly all text
  heap,       // O(n log n): for very long words (minified code, base64, long runs of one character)
};

class BpeModel {
 public:
  // Checks the vocabulary and merges: every byte of the alphabet and every merge part and result must be
  // in the vocabulary. Throws hearth::Error naming the first offending entry. `source` names the file.
  BpeModel(const BpeSpec& spec, const std::string& source);
  ~BpeModel();
  BpeModel(const BpeModel&) = delete;
  BpeModel& operator=(const BpeModel&) = delete;

  // Appends the ids of one pre-token (raw bytes, not byte-level text). Results of words up to
  // kMaxCachedWordBytes are cached, within kMaxCacheBytes; the cache is thread-safe.
  void encode_word(std::string_view bytes, std::vector<Token>& out) const;

  // Same without the cache, with a chosen algorithm (tests compare the algorithms).
  void merge_word(std::string_view bytes, std::vector<Token>& out, MergeAlgorithm algorithm) const;

  // Raw bytes of a vocabulary token, or nullptr when the id is not in the vocabulary.
  const std::string* token_bytes(Token id) const;
  // Vocabulary id whose raw bytes are exactly `bytes`.
  std::optional<Token> find_bytes(std::string_view bytes) const;
  // One past the largest vocabulary id.
  int64_t id_limit() const { return static_cast<int64_t>(bytes_of_id_.size()); }

  static constexpr size_t kMaxCachedWordBytes = 256;
  // The word cache's budget (its entries' estimated heap bytes), and what it holds now.
  static constexpr size_t kMaxCacheBytes = size_t{16} << 20;
  size_t cache_bytes() const;

 private:
  struct MergeTable;
  struct WordCache;

  void merge_scan(std::vector<Token>& symbols) const;
  void merge_heap(std::vector<Token>& symbols) const;

  Token byte_token_[256] = {};
  std::vector<std::string> bytes_of_id_;
  std::vector<bool> has_id_;
  std::unordered_map<std::string_view, Token> id_of_bytes_;
  std::unique_ptr<MergeTable> merges_;
  std::unique_ptr<WordCache> cache_;
  bool ignore_merges_ = false;
};

}  // namespace hearth::chat
