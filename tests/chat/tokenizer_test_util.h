#pragma once
// Small synthetic tokenizer.json files for unit tests: a byte-level vocabulary (the 256 byte tokens, ids
// 0..255 in byte order), chosen merges (each result gets the next id), the Qwen pre-tokenizer and NFC.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>
#include <string>
#include <utility>
#include <vector>

#include "chat/bpe_byte_level.h"

namespace hearth::chat::testing {

inline const char* kQwenPattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

using Merges = std::vector<std::pair<std::string, std::string>>;

struct MiniTokenizer {
  nlohmann::json json;
  int next_id = 256;

  // `merges` are pairs of raw text; they are written in byte-level form, as tokenizer.json stores them.
  explicit MiniTokenizer(const Merges& merges, bool list_form = true) {
    nlohmann::json vocab = nlohmann::json::object();
    for (int b = 0; b < 256; ++b) vocab[byte_level::encode(std::string(1, static_cast<char>(b)))] = b;
    nlohmann::json merge_list = nlohmann::json::array();
    for (const auto& [l, r] : merges) {
      const std::string bl = byte_level::encode(l), br = byte_level::encode(r);
      if (!vocab.contains(bl + br)) vocab[bl + br] = next_id++;
      if (list_form) {
        merge_list.push_back({bl, br});
      } else {
        merge_list.push_back(bl + " " + br);
      }
    }
    json = {
        {"version", "1.0"},
        {"added_tokens", nlohmann::json::array()},
        {"normalizer", {{"type", "NFC"}}},
        {"pre_tokenizer",
         {{"type", "Sequence"},
          {"pretokenizers",
           {{{"type", "Split"}, {"pattern", {{"Regex", kQwenPattern}}}, {"behavior", "Isolated"}, {"invert", false}},
            {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}}}}},
        {"decoder", {{"type", "ByteLevel"}}},
        {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merge_list}, {"ignore_merges", false}}},
    };
  }

  // Id of a vocabulary entry given as raw text.
  int id(const std::string& raw) const { return json["model"]["vocab"][byte_level::encode(raw)].get<int>(); }

  int add_token(const std::string& content, nlohmann::json flags = nlohmann::json::object()) {
    nlohmann::json t = {{"id", next_id}, {"content", content}, {"single_word", false}, {"lstrip", false},
                        {"rstrip", false}, {"normalized", false}, {"special", true}};
    for (auto it = flags.begin(); it != flags.end(); ++it) t[it.key()] = it.value();
    json["added_tokens"].push_back(t);
    return next_id++;
  }

  // Writes the JSON to a fresh file named after the running test and returns its path.
  std::filesystem::path write() const { return write_text(json.dump()); }

  static std::filesystem::path write_text(const std::string& text) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const auto dir = std::filesystem::temp_directory_path() /
                     ("hearth_tok_" + std::string(info->test_suite_name()) + "_" + info->name() + "_" +
                      std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto path = dir / "tokenizer.json";
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
};

}  // namespace hearth::chat::testing
