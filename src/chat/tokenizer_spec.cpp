#include "chat/tokenizer_spec.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "util/error.h"

namespace hearth::chat {

const char* const kGpt2SplitPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

namespace {

// Ids size the tokenizer's tables (one entry per id up to the largest), so an id from a corrupt file must
// be refused, not met as gigabytes of allocation (found by tests/fuzz/loaders_fuzz.cpp). The largest real
// vocabularies have a few hundred thousand ids.
constexpr int64_t kMaxTokenId = int64_t{1} << 24;

using nlohmann::json;

struct Parser {
  const std::string& source;

  [[noreturn]] void fail(const std::string& what, ErrorKind kind = ErrorKind::invalid_request) const {
    throw Error(source + ": " + what, kind);
  }
  [[noreturn]] void unsupported(const std::string& what) const {
    fail(what + " (hearth implements byte-level BPE tokenizers: BPE model, NFC normalizer, Split/ByteLevel "
                "pre-tokenizers)",
         ErrorKind::unsupported);
  }

  static std::string type_of(const json& j) {
    if (!j.is_object()) return "";
    auto it = j.find("type");
    return it != j.end() && it->is_string() ? it->get<std::string>() : "";
  }

  bool flag(const json& obj, const char* key, bool fallback, const std::string& where) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) fail(where + "." + key + " must be a boolean");
    return it->get<bool>();
  }

  const json& member(const json& obj, const char* key, const std::string& where) const {
    auto it = obj.find(key);
    if (it == obj.end()) fail("missing " + where + "." + key);
    return *it;
  }

  Normalization normalizer(const json& j) const {
    if (j.is_null()) return Normalization::none;
    const std::string type = type_of(j);
    if (type == "NFC") return Normalization::nfc;
    if (type == "Sequence") {
      const json& list = member(j, "normalizers", "normalizer");
      if (!list.is_array()) fail("normalizer.normalizers must be an array");
      Normalization result = Normalization::none;
      for (const json& n : list) {
        if (normalizer(n) == Normalization::nfc) result = Normalization::nfc;
      }
      return result;
    }
    unsupported("normalizer type \"" + type + "\" is not supported");
  }

  void pre_tokenizer(const json& j, PreTokenizerSpec& out, bool& saw_byte_level) const {
    const std::string type = type_of(j);
    if (saw_byte_level) unsupported("pre_tokenizer \"" + type + "\" after ByteLevel is not supported");
    if (type == "Sequence") {
      const json& list = member(j, "pretokenizers", "pre_tokenizer");
      if (!list.is_array()) fail("pre_tokenizer.pretokenizers must be an array");
      for (const json& p : list) pre_tokenizer(p, out, saw_byte_level);
    } else if (type == "Split") {
      const json& pattern = member(j, "pattern", "Split");
      SplitSpec split;
      if (pattern.contains("Regex") && pattern["Regex"].is_string()) {
        split.pattern = pattern["Regex"].get<std::string>();
      } else if (pattern.contains("String") && pattern["String"].is_string()) {
        split.pattern = pattern["String"].get<std::string>();
        split.is_literal = true;
      } else {
        fail("Split.pattern must be {\"Regex\": ...} or {\"String\": ...}");
      }
      const json& behavior = member(j, "behavior", "Split");
      if (!behavior.is_string() || behavior.get<std::string>() != "Isolated") {
        unsupported("Split behavior " + behavior.dump() + " is not supported (only Isolated)");
      }
      if (flag(j, "invert", false, "Split")) unsupported("Split with invert=true is not supported");
      out.splits.push_back(std::move(split));
    } else if (type == "ByteLevel") {
      saw_byte_level = true;
      out.add_prefix_space = flag(j, "add_prefix_space", false, "ByteLevel");
      out.prefix_space_stage = out.splits.size();
      if (flag(j, "use_regex", true, "ByteLevel")) out.splits.push_back({kGpt2SplitPattern, false});
    } else if (type.empty()) {
      fail("pre_tokenizer has no \"type\"");
    } else {
      unsupported("pre_tokenizer type \"" + type + "\" is not supported");
    }
  }

  BpeSpec model(const json& j) const {
    if (!j.is_object()) fail("\"model\" must be an object");
    const std::string type = type_of(j);
    // Hugging Face infers BPE from the presence of merges when "type" is absent.
    if (!(type == "BPE" || (type.empty() && j.contains("merges")))) {
      unsupported("model type \"" + type + "\" is not supported");
    }
    if (flag(j, "byte_fallback", false, "model")) unsupported("BPE byte_fallback=true is not supported");
    if (j.contains("dropout") && !j["dropout"].is_null() && j["dropout"].is_number() &&
        j["dropout"].get<double>() != 0.0) {
      unsupported("BPE dropout is not supported");
    }
    for (const char* affix : {"continuing_subword_prefix", "end_of_word_suffix"}) {
      if (j.contains(affix) && j[affix].is_string() && !j[affix].get<std::string>().empty()) {
        unsupported(std::string("BPE ") + affix + " is not supported");
      }
    }
    BpeSpec bpe;
    bpe.ignore_merges = flag(j, "ignore_merges", false, "model");

    const json& vocab = member(j, "vocab", "model");
    if (!vocab.is_object()) fail("model.vocab must be an object of token -> id");
    bpe.vocab.reserve(vocab.size());
    for (auto it = vocab.begin(); it != vocab.end(); ++it) {
      if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 ||
          it.value().get<int64_t>() >= kMaxTokenId) {
        fail("model.vocab[" + json(it.key()).dump() + "] must be a non-negative integer id below " +
             std::to_string(kMaxTokenId));
      }
      bpe.vocab.emplace_back(it.key(), static_cast<Token>(it.value().get<int64_t>()));
    }

    const json& merges = member(j, "merges", "model");
    if (!merges.is_array()) fail("model.merges must be an array");
    bpe.merges.reserve(merges.size());
    size_t rank = 0;
    for (const json& m : merges) {
      // Two spellings: "a b" (tokenizers < 0.20) and ["a", "b"] (which allows spaces inside a part).
      if (m.is_string()) {
        const std::string s = m.get<std::string>();
        const size_t space = s.find(' ');
        if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos) {
          fail("model.merges[" + std::to_string(rank) + "] " + m.dump() + " is not two parts \"a b\"");
        }
        bpe.merges.emplace_back(s.substr(0, space), s.substr(space + 1));
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        bpe.merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
      } else {
        fail("model.merges[" + std::to_string(rank) + "] must be \"a b\" or [\"a\", \"b\"]");
      }
      ++rank;
    }
    return bpe;
  }

  std::vector<AddedTokenSpec> added_tokens(const json& j) const {
    std::vector<AddedTokenSpec> out;
    if (j.is_null()) return out;
    if (!j.is_array()) fail("\"added_tokens\" must be an array");
    for (const json& t : j) {
      const std::string where = "added_tokens[" + std::to_string(out.size()) + "]";
      if (!t.is_object()) fail(where + " must be an object");
      AddedTokenSpec a;
      const json& id = member(t, "id", where);
      const json& content = member(t, "content", where);
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= kMaxTokenId) {
        fail(where + ".id must be a non-negative integer below " + std::to_string(kMaxTokenId));
      }
      if (!content.is_string() || content.get<std::string>().empty()) {
        fail(where + ".content must be a non-empty string");
      }
      a.id = static_cast<Token>(id.get<int64_t>());
      a.content = content.get<std::string>();
      a.special = flag(t, "special", false, where);
      a.single_word = flag(t, "single_word", false, where);
      a.lstrip = flag(t, "lstrip", false, where);
      a.rstrip = flag(t, "rstrip", false, where);
      // Hugging Face's default: special tokens match the raw text, others the normalised text.
      a.normalized = flag(t, "normalized", !a.special, where);
      out.push_back(std::move(a));
    }
    return out;
  }

  void decoder(const json& j) const {
    if (j.is_null()) return;
    const std::string type = type_of(j);
    if (type != "ByteLevel") unsupported("decoder type \"" + type + "\" is not supported");
  }
};

}  // namespace

TokenizerSpec parse_tokenizer_json(std::string_view json_text, const std::string& source) {
  Parser p{source};
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number that overflows
    p.fail(std::string("not valid JSON: ") + e.what());
  }
  if (!root.is_object()) p.fail("top level must be a JSON object");

  TokenizerSpec spec;
  spec.source = source;
  try {
    spec.model = p.model(p.member(root, "model", "tokenizer"));
    spec.normalization = p.normalizer(root.value("normalizer", json()));
    bool saw_byte_level = false;
    const json pre = root.value("pre_tokenizer", json());
    if (!pre.is_null()) p.pre_tokenizer(pre, spec.pre_tokenizer, saw_byte_level);
    if (!saw_byte_level) {
      p.unsupported("pre_tokenizer has no ByteLevel step, so this is not a byte-level BPE tokenizer");
    }
    p.decoder(root.value("decoder", json()));
    spec.added_tokens = p.added_tokens(root.value("added_tokens", json()));
  } catch (const json::exception& e) {
    // Type errors inside nlohmann (a field of the wrong JSON type that we did not check by hand).
    p.fail(std::string("malformed tokenizer.json: ") + e.what());
  }
  return spec;
}

TokenizerSpec read_tokenizer_json(const std::filesystem::path& path) {
  std::filesystem::path file = path;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) file = path / "tokenizer.json";
  if (!std::filesystem::exists(file, ec)) {
    throw Error("tokenizer file not found: " + file.string(), ErrorKind::not_found);
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error("cannot open tokenizer file: " + file.string(), ErrorKind::io);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) throw Error("cannot read tokenizer file: " + file.string(), ErrorKind::io);
  return parse_tokenizer_json(buf.str(), file.string());
}

}  // namespace hearth::chat
