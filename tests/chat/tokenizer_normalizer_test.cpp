// NFC before pre-tokenisation: the chunked implementation (which skips ASCII) against utf8proc's NFC of
// the whole string, and the cases where composition crosses an ASCII letter.
#include <gtest/gtest.h>
#include <utf8proc.h>

#include <cstdlib>
#include <random>

#include "chat/tokenizer.h"
#include "chat/tokenizer_normalizer.h"

namespace hearth::chat {
namespace {

std::string nfc(std::string_view s) {
  std::string storage;
  return std::string(normalize_text(Normalization::nfc, s, storage));
}

std::string whole_string_nfc(const std::string& s) {
  auto* out = utf8proc_NFC(reinterpret_cast<const utf8proc_uint8_t*>(s.c_str()));
  std::string r(reinterpret_cast<char*>(out));
  std::free(out);
  return r;
}

TEST(NfcNormalizer, ReturnsAsciiTextItselfWithoutCopying) {
  const std::string text = "plain ascii text\n\tx = 1;";
  std::string storage;
  EXPECT_EQ(normalize_text(Normalization::nfc, text, storage).data(), text.data());
  const std::string accented = "e\u0301";
  EXPECT_EQ(normalize_text(Normalization::none, accented, storage).data(), accented.data());
}

TEST(NfcNormalizer, ComposesAnAsciiLetterWithTheMarkAfterIt) {
  EXPECT_EQ(nfc("e\u0301"), "\u00E9");
  EXPECT_EQ(nfc("Cafe\u0301 ok, re\u0301sume\u0301!"), "Caf\u00E9 ok, r\u00E9sum\u00E9!");
  EXPECT_EQ(nfc("A\u030A\u0301"), "\u01FA");
}

TEST(NfcNormalizer, ReplacesSingletonsAndComposesHangulJamo) {
  EXPECT_EQ(nfc("\u212B"), "\u00C5");              // ANGSTROM SIGN -> Å
  EXPECT_EQ(nfc("\u2126"), "\u03A9");              // OHM SIGN -> Ω
  EXPECT_EQ(nfc("\u1100\u1161\u11A8"), "\uAC01");  // jamo -> 각
  EXPECT_EQ(nfc("q\u0307\u0323"), "q\u0323\u0307");  // marks reordered by combining class
}

TEST(NfcNormalizer, LeavesCompatibilityCharactersAlone) {
  // NFC, not NFKC: ligatures, full-width and superscripts stay.
  EXPECT_EQ(nfc("\uFB01 \uFF21 \u00B2"), "\uFB01 \uFF21 \u00B2");
}

TEST(NfcNormalizer, ChunkedNormalisationEqualsWholeStringNfc) {
  std::mt19937 rng(17);
  const std::vector<std::string> parts = {"a", "e", "A", " ", "\n", "\u0301", "\u0308", "\u0323", "\u0307", "\u00E9", "\u212B",
                                          "\u1100", "\u1161", "\u11A8", "\u4E2D", "\U0001F600", "\u0915", "\u093C", "o", "\u0302",
                                          "\u0344", "\u0F73", "\u30AB", "\u3099"};
  for (int n = 0; n < 5000; ++n) {
    std::string s;
    for (int k = rng() % 16; k > 0; --k) s += parts[rng() % parts.size()];
    ASSERT_EQ(nfc(s), whole_string_nfc(s)) << s;
  }
}

TEST(NfcNormalizer, TokenizerEncodesDecomposedAndComposedTextIdentically) {
  auto tok = Tokenizer::load(HEARTH_TEST_TOKENIZER_DIR);
  EXPECT_EQ(tok->encode("re\u0301sume\u0301 \u212Bngstr\u00F6m"), tok->encode("r\u00E9sum\u00E9 \u00C5ngstr\u00F6m"));
}

}  // namespace
}  // namespace hearth::chat
