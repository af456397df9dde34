// The regex pre-tokeniser: the Oniguruma-to-PCRE2 rewrite and the pieces the Qwen pattern produces.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "chat/pretokenizer.h"
#include "chat/tokenizer_spec.h"
#include "tokenizer_test_util.h"
#include "util/error.h"

namespace hearth::chat {
namespace {

using Pieces = std::vector<std::string>;

Pieces split_with(const PreTokenizer& pre, std::string_view text) {
  Pieces out;
  pre.split(text, [&](std::string_view p) { out.emplace_back(p); });
  return out;
}

const PreTokenizer& qwen() {
  static const PreTokenizer pre(PreTokenizerSpec{{{testing::kQwenPattern, false}}, false, 0}, "test");
  return pre;
}

Pieces qwen_split(std::string_view text) { return split_with(qwen(), text); }

TEST(OnigurumaTranslation, SpellsOutOnigurumaWhitespaceOutsideAndInsideClasses) {
  EXPECT_EQ(translate_oniguruma_pattern(R"(\s+)"), R"([\t-\r\x{85}\p{Zs}\p{Zl}\p{Zp}]+)");
  EXPECT_EQ(translate_oniguruma_pattern(R"(\S)"), R"([^\t-\r\x{85}\p{Zs}\p{Zl}\p{Zp}])");
  EXPECT_EQ(translate_oniguruma_pattern(R"([^\s\p{L}])"), R"([^\t-\r\x{85}\p{Zs}\p{Zl}\p{Zp}\p{L}])");
}

TEST(OnigurumaTranslation, LeavesEscapedBackslashesPropertiesAndLiteralsAlone) {
  EXPECT_EQ(translate_oniguruma_pattern(R"(\\s)"), R"(\\s)");
  EXPECT_EQ(translate_oniguruma_pattern(R"(\p{L}\x{41}\n(?i:'s)[]a])"), R"(\p{L}\x{41}\n(?i:'s)[]a])");
  EXPECT_EQ(translate_oniguruma_pattern(R"(\w\d)"), R"([\p{L}\p{M}\p{N}\p{Pc}]\p{Nd})");
  EXPECT_EQ(translate_oniguruma_pattern("é[ü]"), "é[ü]");
}

TEST(OnigurumaTranslation, RejectsConstructsWithoutAPcre2Equivalent) {
  EXPECT_THROW(translate_oniguruma_pattern(R"([\S])"), Error);
  EXPECT_THROW(translate_oniguruma_pattern(R"([a[bc]])"), Error);
}

TEST(QwenPreTokenizer, SplitsWordsWithTheirLeadingSpace) {
  EXPECT_EQ(qwen_split("Hello world"), (Pieces{"Hello", " world"}));
  EXPECT_EQ(qwen_split("foo.bar(baz)"), (Pieces{"foo", ".bar", "(baz", ")"}));
}

TEST(QwenPreTokenizer, MatchesContractionsInAnyCase) {
  EXPECT_EQ(qwen_split("I'M you'Re WE'VE"), (Pieces{"I", "'M", " you", "'Re", " WE", "'VE"}));
  EXPECT_EQ(qwen_split("don't"), (Pieces{"don", "'t"}));
  EXPECT_EQ(qwen_split("'x"), (Pieces{"'x"}));  // not a contraction: punctuation joins the word
}

TEST(QwenPreTokenizer, FoldsLongSIntoContractionsAsOnigurumaDoes) {
  // U+017F case-folds to "s", so (?i:'s) matches "'ſ" (JavaScript's rewrite to [sS] would not).
  EXPECT_EQ(qwen_split("it'ſt"), (Pieces{"it", "'ſ", "t"}));
}

TEST(QwenPreTokenizer, SplitsEveryDigit) {
  EXPECT_EQ(qwen_split("x=2024"), (Pieces{"x", "=", "2", "0", "2", "4"}));
  EXPECT_EQ(qwen_split("½²"), (Pieces{"½", "²"}));  // No: numbers too
}

TEST(QwenPreTokenizer, LeavesTheLastSpaceOfARunToTheNextWord) {
  EXPECT_EQ(qwen_split("a   b"), (Pieces{"a", "  ", " b"}));
  EXPECT_EQ(qwen_split("a  "), (Pieces{"a", "  "}));
  EXPECT_EQ(qwen_split("a\n\n  b"), (Pieces{"a", "\n\n", " ", " b"}));
}

TEST(QwenPreTokenizer, KeepsNewlinesWithPrecedingPunctuationAndCrlfTogether) {
  EXPECT_EQ(qwen_split("foo();\n"), (Pieces{"foo", "();\n"}));
  EXPECT_EQ(qwen_split("a\r\nb"), (Pieces{"a", "\r\n", "b"}));
  EXPECT_EQ(qwen_split("\t\tx"), (Pieces{"\t", "\tx"}));
}

TEST(QwenPreTokenizer, TreatsNextLineAsWhitespaceLikeOniguruma) {
  // U+0085 is \s for Oniguruma (and PCRE2), not for JavaScript.
  EXPECT_EQ(qwen_split("a  \u0085b"), (Pieces{"a", "  ", "\u0085b"}));
}

TEST(QwenPreTokenizer, TreatsByteOrderMarkAsNonWhitespaceLikeOniguruma) {
  // U+FEFF is \s for JavaScript, not for Oniguruma (nor PCRE2).
  EXPECT_EQ(qwen_split("a  \uFEFFb"), (Pieces{"a", " ", " \uFEFF", "b"}));
}

TEST(QwenPreTokenizer, TreatsMongolianVowelSeparatorAsNonWhitespaceLikeOniguruma) {
  // PCRE2's own \s matches U+180E; the translated pattern must not.
  EXPECT_EQ(qwen_split("a \u180E b"), (Pieces{"a", " \u180E", " b"}));
}

TEST(QwenPreTokenizer, HandlesMegabyteRunsWithoutRunningOutOfStack) {
  const std::string spaces(1 << 20, ' ');
  EXPECT_EQ(qwen_split("x" + spaces + "y"), (Pieces{"x", spaces.substr(1), " y"}));
  const std::string letters(1 << 20, 'q');
  EXPECT_EQ(qwen_split(letters), (Pieces{letters}));
  const std::string newlines(1 << 20, '\n');
  EXPECT_EQ(qwen_split(newlines), (Pieces{newlines}));
}

TEST(QwenPreTokenizer, PiecesAreNonEmptyAndConcatenateToTheInput) {
  std::mt19937 rng(5);
  const std::vector<std::string> alphabet = {"a", "Z", " ", "  ", "\n", "\r\n", "\t", "'", "s", "7", ".", "é", "中",
                                             "😀", "\u0085", "\uFEFF", "\u00A0", "<|", "|>", "'S", "\u0301"};
  for (int n = 0; n < 2000; ++n) {
    std::string text;
    for (int k = rng() % 30; k > 0; --k) text += alphabet[rng() % alphabet.size()];
    std::string joined;
    for (const auto& p : qwen_split(text)) {
      EXPECT_FALSE(p.empty());
      joined += p;
    }
    EXPECT_EQ(joined, text);
  }
}

TEST(PreTokenizerStages, AddPrefixSpaceGivesTheFirstWordASpace) {
  PreTokenizerSpec spec;
  spec.splits.push_back({kGpt2SplitPattern, false});
  spec.add_prefix_space = true;
  spec.prefix_space_stage = 0;
  PreTokenizer pre(spec, "test");
  EXPECT_EQ(split_with(pre, "Hello world"), (Pieces{" Hello", " world"}));
  EXPECT_EQ(split_with(pre, " Hello"), (Pieces{" Hello"}));
}

TEST(PreTokenizerStages, LiteralSplitTreatsRegexCharactersLiterally) {
  PreTokenizer pre(PreTokenizerSpec{{{".", true}}, false, 0}, "test");
  EXPECT_EQ(split_with(pre, "a.b"), (Pieces{"a", ".", "b"}));
  EXPECT_EQ(split_with(pre, "ab"), (Pieces{"ab"}));
}

TEST(PreTokenizerStages, EmptyMatchesProduceNoPieces) {
  PreTokenizer pre(PreTokenizerSpec{{{"x*", false}}, false, 0}, "test");
  EXPECT_EQ(split_with(pre, "aé"), (Pieces{"a", "é"}));
  EXPECT_EQ(split_with(pre, "axxb"), (Pieces{"a", "xx", "b"}));
}

TEST(PreTokenizerStages, StagesApplyInOrderToEachPiece) {
  PreTokenizer pre(PreTokenizerSpec{{{",", false}, {"b", false}}, false, 0}, "test");
  EXPECT_EQ(split_with(pre, "abc,cba"), (Pieces{"a", "b", "c", ",", "c", "b", "a"}));
}

TEST(PreTokenizerStages, QwenTokenizerJsonUsesTheTestedPattern) {
  const auto spec = read_tokenizer_json(HEARTH_TEST_TOKENIZER_DIR);
  ASSERT_EQ(spec.pre_tokenizer.splits.size(), 1u);
  EXPECT_EQ(spec.pre_tokenizer.splits[0].pattern, testing::kQwenPattern);
  EXPECT_FALSE(spec.pre_tokenizer.add_prefix_space);
}

}  // namespace
}  // namespace hearth::chat
