// Stop sequences found across arbitrary piece boundaries, with nothing of the sequence emitted.
#include <gtest/gtest.h>

#include "api/stop_sequences.h"

namespace hearth::api {
namespace {

// Feeds `text` in pieces of `piece` bytes; returns (emitted text, matched index or -1).
std::pair<std::string, int> run(std::vector<std::string> seqs, const std::string& text, size_t piece) {
  StopSequenceMatcher m(std::move(seqs));
  std::string out;
  for (size_t i = 0; i < text.size(); i += piece) {
    auto r = m.push(text.substr(i, piece));
    out += r.text;
    if (r.matched) return {out, int(*r.matched)};
  }
  out += m.flush();
  return {out, -1};
}

TEST(StopSequenceMatcher, MatchSplitAcrossPiecesStopsBeforeTheSequence) {
  for (size_t piece = 1; piece <= 8; ++piece) {
    auto [out, idx] = run({"STOP"}, "abc STOP def", piece);
    EXPECT_EQ(out, "abc ") << "piece " << piece;
    EXPECT_EQ(idx, 0);
  }
}

TEST(StopSequenceMatcher, HeldBackPrefixIsReleasedWhenItDoesNotComplete) {
  for (size_t piece = 1; piece <= 5; ++piece) {
    auto [out, idx] = run({"STOP"}, "a STO b ST", piece);
    EXPECT_EQ(out, "a STO b ST");
    EXPECT_EQ(idx, -1);
  }
}

TEST(StopSequenceMatcher, EarliestOccurrenceWinsAmongSeveral) {
  auto [out, idx] = run({"world", "lo w"}, "hello world", 100);
  EXPECT_EQ(out, "hel");
  EXPECT_EQ(idx, 1);
}

TEST(StopSequenceMatcher, NothingIsHeldWithoutSequences) {
  StopSequenceMatcher m({});
  EXPECT_FALSE(m.active());
  EXPECT_EQ(m.push("abc").text, "abc");
  EXPECT_EQ(m.flush(), "");
}

TEST(StopSequenceMatcher, NeverSplitsAMultibyteCharacter) {
  // "é" is 2 bytes; the sequence starts with it. Everything emitted must be valid where it is cut.
  StopSequenceMatcher m({"\xC3\xA9t\xC3\xA9"});
  auto r1 = m.push("caf\xC3\xA9");
  EXPECT_EQ(r1.text, "caf");  // "é" could start the sequence: held whole
  auto r2 = m.push("!");
  EXPECT_EQ(r2.text, "\xC3\xA9!");
}

TEST(StopSequenceMatcher, SpentAfterAMatch) {
  StopSequenceMatcher m({"x"});
  EXPECT_TRUE(m.push("ax").matched);
  auto r = m.push("more");
  EXPECT_EQ(r.text, "");
  EXPECT_FALSE(r.matched);
}

}  // namespace
}  // namespace hearth::api
