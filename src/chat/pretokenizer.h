#pragma once
// The regex pre-tokeniser: splits normalised text into the pieces ("words") that BPE encodes one at a
// time. Each Split stage keeps both its matches and the text between them (behaviour Isolated).
//
// Patterns in tokenizer.json are written for Oniguruma, the regex engine of Hugging Face tokenizers.
// They are compiled with PCRE2 (UTF + UCP, JIT) after rewriting the escapes whose Unicode meaning
// differs between the two engines (see translate_oniguruma_pattern).
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "chat/tokenizer_spec.h"

namespace hearth::chat {

// Rewrites an Oniguruma pattern into a PCRE2 pattern with the same meaning:
//   \s  Oniguruma: U+0009..U+000D, U+0085 and the Zs/Zl/Zp categories. PCRE2's UCP \s also matches
//       U+180E, so it is spelled out as that explicit set. \S is its complement.
//   \w  Oniguruma: letters, marks, numbers, connector punctuation (PCRE2's \w lacks marks); \W likewise.
//   \d  Oniguruma: Nd, same as PCRE2 UCP; spelled \p{Nd} for clarity.
// Everything else (\p{..}, (?i:..), look-ahead, classes) means the same in both. Throws hearth::Error
// (unsupported) for constructs only Oniguruma has: nested classes, \S or \W inside a class.
std::string translate_oniguruma_pattern(std::string_view pattern);

class PreTokenizer {
 public:
  // Compiles every split stage. `source` names the file in error messages.
  PreTokenizer(const PreTokenizerSpec& spec, const std::string& source);
  ~PreTokenizer();
  PreTokenizer(const PreTokenizer&) = delete;
  PreTokenizer& operator=(const PreTokenizer&) = delete;

  // Calls `emit` with each piece of `text` in order (never empty). `text` must be valid UTF-8.
  // Thread-safe. A piece may point into a temporary (with add_prefix_space): copy it to keep it.
  void split(std::string_view text, const std::function<void(std::string_view)>& emit) const;

 private:
  struct Stage;
  struct Scratch;
  void run_stage(size_t stage, std::string_view piece, Scratch& scratch,
                 const std::function<void(std::string_view)>& emit) const;

  std::vector<std::unique_ptr<Stage>> stages_;
  bool add_prefix_space_ = false;
  size_t prefix_space_stage_ = 0;
};

}  // namespace hearth::chat
