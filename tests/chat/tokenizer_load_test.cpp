// Loading tokenizer.json: file or directory, both merge spellings, and a clear hearth::Error naming the
// problem for missing files, malformed JSON and every unsupported type.
#include <gtest/gtest.h>

#include <string>

#include "chat/tokenizer.h"
#include "tokenizer_test_util.h"
#include "util/error.h"

namespace hearth::chat {
namespace {

using testing::MiniTokenizer;

// Loads `path` and returns the error it throws (fails the test when it does not throw).
Error load_error(const std::filesystem::path& path) {
  try {
    Tokenizer::load(path);
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "loading " << path << " did not throw";
  return Error("none");
}

Error load_error_for(const nlohmann::json& json) { return load_error(MiniTokenizer::write_text(json.dump())); }

void expect_message_has(const Error& e, const std::string& needle) {
  EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << "message: " << e.what();
}

TEST(TokenizerLoad, AcceptsTheFileOrItsDirectory) {
  auto from_dir = Tokenizer::load(HEARTH_TEST_TOKENIZER_DIR);
  auto from_file = Tokenizer::load(std::filesystem::path(HEARTH_TEST_TOKENIZER_DIR) / "tokenizer.json");
  EXPECT_EQ(from_dir->encode("same tokenizer"), from_file->encode("same tokenizer"));
}

TEST(TokenizerLoad, MissingFileIsNotFoundAndNamesThePath) {
  const Error e = load_error("/nonexistent/hearth/tokenizer.json");
  EXPECT_EQ(e.kind(), ErrorKind::not_found);
  expect_message_has(e, "/nonexistent/hearth/tokenizer.json");
  const auto empty_dir = MiniTokenizer::write_text("{}").parent_path() / "empty";
  std::filesystem::create_directories(empty_dir);
  expect_message_has(load_error(empty_dir), "tokenizer.json");
}

TEST(TokenizerLoad, MalformedJsonNamesTheFile) {
  const auto path = MiniTokenizer::write_text("{\"model\": {\"vocab\": ");
  const Error e = load_error(path);
  expect_message_has(e, path.string());
  expect_message_has(e, "not valid JSON");
}

TEST(TokenizerLoad, NumberTooLargeForJsonIsAnErrorNamingTheFile) {
  // Found by tests/fuzz/loaders_fuzz.cpp: nlohmann reports it as out_of_range, not parse_error.
  const auto path = MiniTokenizer::write_text("{\"version\": 111111111e1111111111}");
  const Error e = load_error(path);
  expect_message_has(e, path.string());
  expect_message_has(e, "not valid JSON");
}

TEST(TokenizerLoad, HugeTokenIdIsRefusedBeforeTablesAreSized) {
  // Found by tests/fuzz/loaders_fuzz.cpp: an id of 447 million sized a 3.5 GB table.
  MiniTokenizer mini(testing::Merges{});
  mini.json["model"]["vocab"]["zz"] = 447603440;
  expect_message_has(load_error(mini.write()), "below 16777216");
  MiniTokenizer added(testing::Merges{});
  added.add_token("<big>", {{"id", 1 << 30}});
  expect_message_has(load_error(added.write()), "below 16777216");
}

TEST(TokenizerLoad, WrongJsonTypesAreErrorsNotCrashes) {
  for (const char* text : {"[]", "{}", R"({"model": []})", R"({"model": {"type": "BPE", "vocab": [], "merges": []}})",
                           R"({"model": {"type": "BPE", "vocab": {"a": "x"}, "merges": []}})",
                           R"({"model": {"type": "BPE", "vocab": {}, "merges": [1]}})"}) {
    EXPECT_THROW(Tokenizer::load(MiniTokenizer::write_text(text)), Error) << text;
  }
  MiniTokenizer mini(testing::Merges{});
  mini.json["added_tokens"] = {{{"id", "seven"}, {"content", "<x>"}}};
  expect_message_has(load_error_for(mini.json), "added_tokens[0].id");
}

TEST(TokenizerLoad, UnsupportedModelTypeIsNamed) {
  MiniTokenizer mini(testing::Merges{});
  mini.json["model"]["type"] = "WordPiece";
  const Error e = load_error_for(mini.json);
  EXPECT_EQ(e.kind(), ErrorKind::unsupported);
  expect_message_has(e, "WordPiece");
}

TEST(TokenizerLoad, UnsupportedPreTokenizerIsNamed) {
  MiniTokenizer mini(testing::Merges{});
  mini.json["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "▁"}};
  expect_message_has(load_error_for(mini.json), "Metaspace");
  mini.json["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "\\s"}}}, {"behavior", "Removed"}};
  expect_message_has(load_error_for(mini.json), "Removed");
  mini.json["pre_tokenizer"] = nullptr;
  expect_message_has(load_error_for(mini.json), "ByteLevel");
}

TEST(TokenizerLoad, UnsupportedNormalizerAndDecoderAreNamed) {
  MiniTokenizer mini(testing::Merges{});
  mini.json["normalizer"] = {{"type", "NFKC"}};
  expect_message_has(load_error_for(mini.json), "NFKC");
  MiniTokenizer other(testing::Merges{});
  other.json["decoder"] = {{"type", "WordPiece"}};
  expect_message_has(load_error_for(other.json), "decoder type \"WordPiece\"");
}

TEST(TokenizerLoad, UnsupportedBpeOptionsAreNamed) {
  MiniTokenizer mini(testing::Merges{});
  mini.json["model"]["byte_fallback"] = true;
  expect_message_has(load_error_for(mini.json), "byte_fallback");
  MiniTokenizer other(testing::Merges{});
  other.json["model"]["continuing_subword_prefix"] = "##";
  expect_message_has(load_error_for(other.json), "continuing_subword_prefix");
}

TEST(TokenizerLoad, BadMergesAndIncompleteByteVocabulariesAreNamed) {
  MiniTokenizer mini(testing::Merges{{"a", "b"}});
  mini.json["model"]["merges"].push_back({"q", "zzz"});
  expect_message_has(load_error_for(mini.json), "\"zzz\", which is not in model.vocab");
  MiniTokenizer strings(testing::Merges{{"a", "b"}}, false);
  strings.json["model"]["merges"].push_back("a b c");
  expect_message_has(load_error_for(strings.json), "model.merges[1]");
  MiniTokenizer bytes(testing::Merges{});
  bytes.json["model"]["vocab"].erase("Ġ");
  expect_message_has(load_error_for(bytes.json), "byte 32");
}

TEST(TokenizerLoad, PatternsPcre2CannotCompileAreReported) {
  MiniTokenizer mini(testing::Merges{});
  mini.json["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(unclosed";
  expect_message_has(load_error_for(mini.json), "(unclosed");
}

}  // namespace
}  // namespace hearth::chat
