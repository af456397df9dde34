#pragma once
// What hearth reads from a Hugging Face tokenizer.json, as plain data: the parts of the file that decide
// how text becomes ids. Parsing checks every type name against what hearth implements and throws
// hearth::Error naming the unsupported one, so the tokenizer never silently tokenizes differently.
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/tokenizer.h"

namespace hearth::chat {

// An entry of "added_tokens": matched in the text before BPE, never split.
struct AddedTokenSpec {
  Token id = 0;
  std::string content;
  bool special = false;
  bool single_word = false;  // only matches when not inside a word
  bool lstrip = false;       // swallows the whitespace to its left
  bool rstrip = false;       // swallows the whitespace to its right
  bool normalized = false;   // matched in the normalised text rather than the raw text
};

enum class Normalization { none, nfc };

// One regex split stage of the pre-tokeniser ("Split" with behavior Isolated: the matches and the text
// between them all become pieces).
struct SplitSpec {
  std::string pattern;      // Oniguruma syntax, as Hugging Face tokenizers compiles it
  bool is_literal = false;  // pattern was {"String": ...}, not {"Regex": ...}
};

struct PreTokenizerSpec {
  std::vector<SplitSpec> splits;  // applied in order, each to every piece of the previous stage
  // ByteLevel's add_prefix_space: " " is prepended to every piece that reaches the ByteLevel step
  // (after `prefix_space_stage` splits) and does not start with a space.
  bool add_prefix_space = false;
  size_t prefix_space_stage = 0;
};

struct BpeSpec {
  std::vector<std::pair<std::string, Token>> vocab;         // byte-level strings ("Ġthe") to ids
  std::vector<std::pair<std::string, std::string>> merges;  // by rank, first = highest priority
  bool ignore_merges = false;  // a pre-token found whole in the vocabulary is one token
};

struct TokenizerSpec {
  std::string source;  // file name, for error messages
  Normalization normalization = Normalization::none;
  PreTokenizerSpec pre_tokenizer;
  BpeSpec model;
  std::vector<AddedTokenSpec> added_tokens;
};

// The regex ByteLevel uses when its use_regex is true (GPT-2's), in Oniguruma syntax.
extern const char* const kGpt2SplitPattern;

// Parses tokenizer.json text. `source` names the file in error messages.
TokenizerSpec parse_tokenizer_json(std::string_view json_text, const std::string& source);

// Reads `path` (a tokenizer.json, or a directory holding one) and parses it.
TokenizerSpec read_tokenizer_json(const std::filesystem::path& path);

}  // namespace hearth::chat
