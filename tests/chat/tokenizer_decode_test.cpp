// Decoding: token bytes, decode as the inverse of encode, the streaming decoder that never emits a broken
// UTF-8 character, and the invalid-UTF-8 rule of encode.
#include <gtest/gtest.h>

#include <random>

#include "chat/tokenizer.h"
#include "chat/tokenizer_normalizer.h"
#include "util/error.h"
#include "util/utf8.h"

namespace hearth::chat {
namespace {

const Tokenizer& qwen() {
  static auto tok = Tokenizer::load(HEARTH_TEST_TOKENIZER_DIR);
  return *tok;
}

TEST(TokenizerDecode, DecodeInvertsEncode) {
  for (const char* text : {"Hello, world!", "  indented\n\tcode();\r\n", "中文 日本語 한국어", "👨‍👩‍👧‍👦 👍🏽 🇯🇵",
                           "<|im_start|>user\n<think>x</think><|im_end|>", "e\u0301 is composed", ""}) {
    const auto ids = qwen().encode(text);
    // NFC changes "e\u0301": compare with what was tokenised.
    const std::string want = std::string(text) == "e\u0301 is composed" ? "\u00E9 is composed" : text;
    EXPECT_EQ(qwen().decode(ids), want);
  }
}

TEST(TokenizerDecode, TokenBytesAreRawBytesAndSpecialTokensTheirText) {
  EXPECT_EQ(qwen().token_bytes(198), "\n");
  EXPECT_EQ(qwen().token_bytes(220), " ");
  EXPECT_EQ(qwen().token_bytes(151645), "<|im_end|>");
  EXPECT_EQ(qwen().token_id("\n"), 198);
  EXPECT_EQ(qwen().token_id("</think>"), 151668);
  EXPECT_EQ(qwen().token_id("no such token text"), std::nullopt);
  EXPECT_EQ(qwen().vocab_size(), 151669);
}

TEST(TokenizerDecode, IdsOutsideTheVocabularyAreAnError) {
  EXPECT_THROW(qwen().token_bytes(-1), Error);
  EXPECT_THROW(qwen().token_bytes(151669), Error);
  const std::vector<Token> ids = {9707, 1 << 30};
  EXPECT_THROW(qwen().decode(ids), Error);
}

// Feeds `text`'s ids one at a time; checks every chunk is well-formed and the chunks rebuild the text.
// Returns how many pushes returned nothing (a character was being held back).
int stream_and_check(const std::string& text) {
  const auto ids = qwen().encode(text);
  StreamDecoder decoder(qwen());
  std::string rebuilt;
  int held = 0;
  for (Token id : ids) {
    const std::string chunk = decoder.push(id);
    EXPECT_TRUE(utf8::is_valid(chunk)) << "broken UTF-8 emitted for " << text;
    if (chunk.empty()) ++held;
    rebuilt += chunk;
  }
  rebuilt += decoder.finish();
  EXPECT_EQ(rebuilt, text);
  return held;
}

TEST(StreamDecoder, HoldsBackCharactersSplitAcrossTokens) {
  int held = 0;
  for (const char* text : {"🫠🫠 melting", "👩🏽‍💻 at work", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "鿿 𪚥 𠀀 rare CJK", "ꦗꦮ Javanese", "𝕏 marks",
                           "中华人民共和国", "Ⅻ ① ½", "ᚠᚢᚦᚨᚱᚲ"}) {
    held += stream_and_check(text);
  }
  // The texts were chosen because the vocabulary splits some of their characters across tokens.
  EXPECT_GT(held, 0);
}

TEST(StreamDecoder, FinishReplacesAnIncompleteTrailingCharacter) {
  // The first byte-level token of a 4-byte emoji: an incomplete character.
  const auto ids = qwen().encode("🫠");
  ASSERT_GT(ids.size(), 1u);
  StreamDecoder decoder(qwen());
  EXPECT_EQ(decoder.push(ids[0]), "");
  EXPECT_EQ(decoder.finish(), "\uFFFD");
  EXPECT_EQ(decoder.finish(), "");
}

TEST(StreamDecoder, EmitsBytesThatCanNeverBecomeValidAsReplacementCharacters) {
  const Token byte_ff = *qwen().token_id("\xFF");
  StreamDecoder decoder(qwen());
  EXPECT_EQ(decoder.push(byte_ff), "\uFFFD");
  EXPECT_EQ(decoder.push(*qwen().token_id("a")), "a");
}

TEST(InvalidUtf8Input, EachMaximalInvalidSubsequenceBecomesOneReplacementCharacter) {
  const auto& t = qwen();
  // Truncated 4-byte sequence: one U+FFFD.
  EXPECT_EQ(t.encode("a\xF0\x9F\x98" "b"), t.encode("a\uFFFD" "b"));
  // Encoded surrogate: ED is not followed by a valid continuation, so three errors.
  EXPECT_EQ(t.encode("\xED\xA0\x80"), t.encode("\uFFFD\uFFFD\uFFFD"));
  // Overlong and out-of-range lead bytes are one error each; so is every stray continuation byte.
  EXPECT_EQ(t.encode("\xC0\xAF x"), t.encode("\uFFFD\uFFFD x"));
  EXPECT_EQ(t.encode("\xF4\x90\x80\x80"), t.encode("\uFFFD\uFFFD\uFFFD\uFFFD"));
  EXPECT_EQ(t.encode("\x80\x80"), t.encode("\uFFFD\uFFFD"));
  // A truncated sequence at the very end.
  EXPECT_EQ(t.encode("end\xE2\x82"), t.encode("end\uFFFD"));
  // Invalid bytes next to a special token do not hide it.
  EXPECT_EQ(t.encode("\xFF<|im_end|>").back(), 151645);
}

TEST(InvalidUtf8Input, AnyBytesEncodeAndDecodeBackToTheirSanitizedNfcForm) {
  std::mt19937 rng(23);
  const std::vector<std::string> parts = {"a", " ", "\n", "é", "e\u0301", "中", "😀", "<|im_end|>", "<think>", "\x80",
                                          "\xC3", "\xE2\x82", "\xF0\x9F", "\xED\xA0\x80", "\xFF", "'s", "1"};
  for (int n = 0; n < 3000; ++n) {
    std::string bytes;
    for (int k = rng() % 20; k > 0; --k) {
      if (rng() % 4 == 0) {
        bytes.push_back(static_cast<char>(rng() & 0xFF));
      } else {
        bytes += parts[rng() % parts.size()];
      }
    }
    std::string storage;
    const std::string want(normalize_text(Normalization::nfc, utf8::sanitize(bytes), storage));
    ASSERT_EQ(qwen().decode(qwen().encode(bytes)), want);
  }
}

}  // namespace
}  // namespace hearth::chat
