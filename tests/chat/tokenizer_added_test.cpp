// Added tokens: matched before BPE, longest first, and the lstrip/rstrip/single_word/normalized flags
// with Hugging Face's meaning.
#include <gtest/gtest.h>

#include <algorithm>

#include "chat/tokenizer.h"
#include "tokenizer_test_util.h"

namespace hearth::chat {
namespace {

using testing::MiniTokenizer;
using Ids = std::vector<Token>;

TEST(AddedTokens, QwenSpecialTokensAreSingleIdsInsideText) {
  auto tok = Tokenizer::load(HEARTH_TEST_TOKENIZER_DIR);
  const Token im_start = *tok->token_id("<|im_start|>"), im_end = *tok->token_id("<|im_end|>");
  EXPECT_EQ(im_start, 151644);
  EXPECT_EQ(im_end, 151645);
  const Ids ids = tok->encode("<|im_start|>user\nhi<|im_end|>");
  EXPECT_EQ(ids.front(), im_start);
  EXPECT_EQ(ids.back(), im_end);
  // Non-special added tokens (<think>, <tool_call>) are matched too.
  EXPECT_EQ(tok->encode("x<think>y</think>"), (Ids{tok->encode("x")[0], *tok->token_id("<think>"), tok->encode("y")[0],
                                                   *tok->token_id("</think>")}));
}

TEST(AddedTokens, IncompleteOrAlteredSpecialTokensAreOrdinaryText) {
  auto tok = Tokenizer::load(HEARTH_TEST_TOKENIZER_DIR);
  for (const char* text : {"<|im_start|", "<|im_start", "<|IM_START|>", "< think>", "<think >"}) {
    for (Token id : tok->encode(text)) EXPECT_LT(id, 151643) << text;
  }
}

TEST(AddedTokens, LongestMatchWinsAndMatchesDoNotOverlap) {
  MiniTokenizer mini(testing::Merges{});
  const int short_id = mini.add_token("<a>");
  const int long_id = mini.add_token("<a>b");
  auto tok = Tokenizer::load(mini.write());
  EXPECT_EQ(tok->encode("x<a>by"), (Ids{'x', long_id, 'y'}));
  EXPECT_EQ(tok->encode("<a><a>"), (Ids{short_id, short_id}));
}

TEST(AddedTokens, LstripAndRstripSwallowAdjacentWhitespace) {
  MiniTokenizer mini(testing::Merges{});
  const int mask = mini.add_token("<mask>", {{"lstrip", true}, {"rstrip", true}});
  auto tok = Tokenizer::load(mini.write());
  EXPECT_EQ(tok->encode("a \t<mask>  b"), (Ids{'a', mask, 'b'}));
  EXPECT_EQ(tok->encode("a\u3000<mask>\u2000b"), (Ids{'a', mask, 'b'}));  // Unicode White_Space counts
  MiniTokenizer plain(testing::Merges{});
  const int plain_mask = plain.add_token("<mask>");
  EXPECT_EQ(Tokenizer::load(plain.write())->encode("a <mask> b"), (Ids{'a', ' ', plain_mask, ' ', 'b'}));
}

TEST(AddedTokens, LstripStopsAtThePreviousMatch) {
  MiniTokenizer mini(testing::Merges{});
  const int r = mini.add_token("<r>", {{"rstrip", true}});
  const int l = mini.add_token("<l>", {{"lstrip", true}});
  auto tok = Tokenizer::load(mini.write());
  EXPECT_EQ(tok->encode("<r>   <l>"), (Ids{r, l}));
  EXPECT_EQ(tok->encode("x <l> y"), (Ids{'x', l, ' ', 'y'}));
}

TEST(AddedTokens, SingleWordTokensOnlyMatchBetweenNonWordCharacters) {
  MiniTokenizer mini(testing::Merges{});
  const int mask = mini.add_token("<mask>", {{"single_word", true}});
  auto tok = Tokenizer::load(mini.write());
  EXPECT_EQ(tok->encode("<mask>,"), (Ids{mask, ','}));
  EXPECT_EQ(tok->encode("a <mask> b"), (Ids{'a', ' ', mask, ' ', 'b'}));
  const Ids glued = tok->encode("a<mask>");
  EXPECT_EQ(std::count(glued.begin(), glued.end(), mask), 0);
  const Ids after = tok->encode("<mask>é");
  EXPECT_EQ(std::count(after.begin(), after.end(), mask), 0);
}

TEST(AddedTokens, NormalizedTokensMatchTheNormalisedTextOnly) {
  MiniTokenizer mini(testing::Merges{});
  const int normalized = mini.add_token("caf\u00E9", {{"normalized", true}, {"special", false}});
  const int raw = mini.add_token("ne\u0301e", {{"normalized", false}});
  auto tok = Tokenizer::load(mini.write());
  EXPECT_EQ(tok->encode("cafe\u0301"), (Ids{normalized}));  // decomposed input, NFC'd, then matched
  EXPECT_EQ(tok->encode("caf\u00E9"), (Ids{normalized}));
  EXPECT_EQ(tok->encode("ne\u0301e"), (Ids{raw}));  // raw match happens before NFC
  const Ids composed = tok->encode("n\u00E9e");
  EXPECT_EQ(std::count(composed.begin(), composed.end(), raw), 0);
}

TEST(AddedTokens, DecodeGivesTheirTextAndTokenIdFindsThem) {
  MiniTokenizer mini(testing::Merges{});
  const int id = mini.add_token("<|tool|>");
  auto tok = Tokenizer::load(mini.write());
  EXPECT_EQ(tok->token_bytes(id), "<|tool|>");
  EXPECT_EQ(tok->token_id("<|tool|>"), id);
  EXPECT_EQ(tok->vocab_size(), id + 1);
}

}  // namespace
}  // namespace hearth::chat
