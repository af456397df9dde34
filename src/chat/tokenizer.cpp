#include "chat/tokenizer.h"

#include "chat/tokenizer_bpe.h"
#include "chat/tokenizer_spec.h"
#include "util/utf8.h"

namespace hearth::chat {

std::shared_ptr<const Tokenizer> Tokenizer::load(const std::filesystem::path& path) {
  return std::make_shared<ByteLevelBpeTokenizer>(read_tokenizer_json(path));
}

std::string StreamDecoder::push(Token id) {
  pending_ += tokenizer_.token_bytes(id);
  const size_t complete = utf8::complete_prefix_length(pending_);
  if (complete == 0) return {};
  // complete_prefix_length lets invalid bytes through (they never become valid); sanitize turns them
  // into U+FFFD so the caller only ever sees well-formed UTF-8.
  std::string out = utf8::sanitize(std::string_view(pending_).substr(0, complete));
  pending_.erase(0, complete);
  return out;
}

std::string StreamDecoder::finish() {
  std::string out = utf8::sanitize(pending_);
  pending_.clear();
  return out;
}

}  // namespace hearth::chat
