// Byte-level alphabet and BPE merging: rank order, tie-breaking, both merge algorithms, both merge
// spellings in tokenizer.json, ignore_merges, and the thread-safe word cache.
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <thread>

#include "chat/bpe_byte_level.h"
#include "chat/bpe_model.h"
#include "chat/tokenizer.h"
#include "chat/tokenizer_spec.h"
#include "tokenizer_test_util.h"

namespace hearth::chat {
namespace {

using testing::MiniTokenizer;

TEST(ByteLevelAlphabet, MapsEveryByteToADistinctCharacterAndBack) {
  std::set<char32_t> seen;
  std::string all;
  for (int b = 0; b < 256; ++b) {
    const char32_t c = byte_level::char_for_byte(static_cast<uint8_t>(b));
    EXPECT_TRUE(seen.insert(c).second) << "byte " << b;
    EXPECT_EQ(byte_level::byte_for_char(c), static_cast<uint8_t>(b));
    all.push_back(static_cast<char>(b));
  }
  EXPECT_EQ(byte_level::decode(byte_level::encode(all)), all);
}

TEST(ByteLevelAlphabet, PrintableLatin1StandsForItselfAndTheRestIsShiftedAboveU0100) {
  EXPECT_EQ(byte_level::char_for_byte('a'), U'a');
  EXPECT_EQ(byte_level::char_for_byte(0xE9), U'\u00E9');
  EXPECT_EQ(byte_level::char_for_byte(' '), U'\u0120');   // 'Ġ'
  EXPECT_EQ(byte_level::char_for_byte('\n'), U'\u010A');  // 'Ċ'
  EXPECT_EQ(byte_level::char_for_byte(0x00), U'\u0100');
  EXPECT_EQ(byte_level::char_for_byte(0x7F), U'\u0121');
  EXPECT_EQ(byte_level::char_for_byte(0xAD), U'\u0143');  // the last of the 68 shifted bytes
  EXPECT_EQ(byte_level::encode(" hi\n"), "ĠhiĊ");
}

TEST(ByteLevelAlphabet, DecodeKeepsCharactersOutsideTheAlphabetAndRejectsInvalidUtf8) {
  EXPECT_EQ(byte_level::decode("€ĠĊ"), "€ \n");
  EXPECT_EQ(byte_level::decode("\xFF"), std::nullopt);
}

TEST(BpeMerges, LowestRankMergesFirst) {
  // "abc": (b,c) outranks (a,b), so the word becomes a|bc and then abc.
  MiniTokenizer mini(testing::Merges{{"b", "c"}, {"a", "b"}, {"a", "bc"}});
  auto tok = Tokenizer::load(mini.write());
  EXPECT_EQ(tok->encode("abc"), (std::vector<Token>{mini.id("abc")}));
  MiniTokenizer swapped(testing::Merges{{"a", "b"}, {"b", "c"}, {"a", "bc"}});
  auto tok2 = Tokenizer::load(swapped.write());
  EXPECT_EQ(tok2->encode("abc"), (std::vector<Token>{swapped.id("ab"), 'c'}));
}

TEST(BpeMerges, EqualPairsMergeLeftmostFirst) {
  MiniTokenizer mini(testing::Merges{{"a", "a"}});
  auto tok = Tokenizer::load(mini.write());
  EXPECT_EQ(tok->encode("aaa"), (std::vector<Token>{mini.id("aa"), 'a'}));
  EXPECT_EQ(tok->encode("aaaa"), (std::vector<Token>{mini.id("aa"), mini.id("aa")}));
}

TEST(BpeMerges, NewPairsFormedByAMergeCompeteByRank) {
  // After x+y, the pair (xy, z) has rank 1 and beats (z, w) at rank 2.
  MiniTokenizer mini(testing::Merges{{"x", "y"}, {"xy", "z"}, {"z", "w"}});
  auto tok = Tokenizer::load(mini.write());
  EXPECT_EQ(tok->encode("xyzw"), (std::vector<Token>{mini.id("xyz"), 'w'}));
}

TEST(BpeMerges, StringAndListMergeSpellingsLoadTheSameTokenizer) {
  const std::vector<std::pair<std::string, std::string>> merges = {{"t", "h"}, {"th", "e"}, {" ", "the"}, {"e", "r"}};
  auto list = Tokenizer::load(MiniTokenizer(merges, true).write());
  auto strings = Tokenizer::load(MiniTokenizer(merges, false).write());
  for (const char* text : {"the other there", " the", "ther"}) EXPECT_EQ(list->encode(text), strings->encode(text));
  EXPECT_EQ(list->encode(" the").size(), 1u);
}

TEST(BpeMerges, IgnoreMergesTakesAWholeWordFromTheVocabulary) {
  MiniTokenizer mini(testing::Merges{{"a", "b"}});
  mini.json["model"]["vocab"]["xyz"] = 400;  // reachable by no merge
  mini.json["model"]["ignore_merges"] = false;
  EXPECT_EQ(Tokenizer::load(mini.write())->encode("xyz"), (std::vector<Token>{'x', 'y', 'z'}));
  mini.json["model"]["ignore_merges"] = true;
  EXPECT_EQ(Tokenizer::load(mini.write())->encode("xyz"), (std::vector<Token>{400}));
}

// Random words over an alphabet that makes long merge chains in the real Qwen vocabulary.
std::string random_word(std::mt19937& rng, size_t length) {
  static const std::vector<std::string> parts = {"a", "e", "in", "the", "ing", " ", "  ", "=", "-", "0", "é", "中", "😀",
                                                 "x", "qu", "\n", "__", "ab"};
  std::string w;
  while (w.size() < length) w += parts[rng() % parts.size()];
  return w;
}

TEST(BpeAlgorithms, ScanAndHeapMergeIdenticallyOnTheQwenVocabulary) {
  const auto spec = read_tokenizer_json(HEARTH_TEST_TOKENIZER_DIR);
  BpeModel model(spec.model, spec.source);
  std::mt19937 rng(11);
  for (int n = 0; n < 3000; ++n) {
    const std::string word = random_word(rng, 1 + rng() % (n % 10 == 0 ? 600 : 40));
    std::vector<Token> scan, heap;
    model.merge_word(word, scan, MergeAlgorithm::scan);
    model.merge_word(word, heap, MergeAlgorithm::heap);
    ASSERT_EQ(scan, heap) << "word: " << word;
    std::string joined;
    for (Token t : scan) joined += *model.token_bytes(t);
    ASSERT_EQ(joined, word);
  }
}

TEST(BpeWordCache, CachedEncodingEqualsFreshEncodingAcrossThreads) {
  const auto spec = read_tokenizer_json(HEARTH_TEST_TOKENIZER_DIR);
  BpeModel model(spec.model, spec.source);
  std::mt19937 rng(3);
  std::vector<std::string> words;
  for (int n = 0; n < 2000; ++n) words.push_back(random_word(rng, 1 + rng() % 300));
  std::vector<std::vector<Token>> fresh(words.size());
  for (size_t i = 0; i < words.size(); ++i) model.merge_word(words[i], fresh[i], MergeAlgorithm::automatic);
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        for (size_t i = t; i < words.size() + t; ++i) {
          std::vector<Token> got;
          model.encode_word(words[i % words.size()], got);
          if (got != fresh[i % words.size()]) ++mismatches;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace hearth::chat

namespace hearth::chat {
namespace {

TEST(BpeWordCache, StaysWithinItsByteBudgetUnderDistinctLongWords) {
  // Hostile text: a stream of distinct 200-byte words (each cached: under kMaxCachedWordBytes). Without
  // a byte bound the cache kept 128k such entries (~100 MB); with it, it holds at most kMaxCacheBytes.
  testing::MiniTokenizer mini(testing::Merges{{"a", "b"}});
  auto tok = Tokenizer::load(mini.write());
  std::mt19937 rng(15);
  std::string word(200, 'x');
  size_t peak = 0;
  for (int i = 0; i < 40000; ++i) {
    for (char& c : word) c = static_cast<char>('a' + rng() % 26);
    const std::vector<Token> ids = tok->encode(word);
    ASSERT_FALSE(ids.empty());
    peak = std::max(peak, tok->cache_bytes());
  }
  EXPECT_GT(peak, BpeModel::kMaxCacheBytes / 2);  // it did cache (the bound is what limited it)
  EXPECT_LE(peak, BpeModel::kMaxCacheBytes);
  // Still correct after the shards were emptied and refilled.
  EXPECT_EQ(tok->decode(tok->encode("ab abab cab")), "ab abab cab");
}

}  // namespace
}  // namespace hearth::chat
