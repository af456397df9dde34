// Thinking-block signatures: hearth verifies its own, and drops blocks it cannot verify.
#include <gtest/gtest.h>

#include "api/thinking_signature.h"

namespace hearth::api {
namespace {

TEST(ThinkingSigner, VerifiesItsOwnSignature) {
  ThinkingSigner signer("key-1");
  std::string sig = signer.sign("I should list the files first.");
  EXPECT_TRUE(sig.starts_with("hearth1."));
  EXPECT_TRUE(signer.verify("I should list the files first.", sig));
}

TEST(ThinkingSigner, RejectsChangedTextForeignKeyAndGarbage) {
  ThinkingSigner signer("key-1");
  ThinkingSigner other("key-2");
  std::string sig = signer.sign("plan A");
  EXPECT_FALSE(signer.verify("plan B", sig));
  EXPECT_FALSE(other.verify("plan A", sig));
  EXPECT_FALSE(signer.verify("plan A", ""));
  EXPECT_FALSE(signer.verify("plan A", "EqQKCkYIBhgCKkD"));  // an Anthropic-style signature
}

TEST(ThinkingSigner, RandomKeysDiffer) {
  ThinkingSigner a, b;
  EXPECT_NE(a.sign("x"), b.sign("x"));
}

TEST(DropUnverifiedThinking, KeepsSignedBlocksAndDropsForgedAndRedacted) {
  ThinkingSigner signer("k");
  MessagesRequest request;
  Message assistant;
  assistant.role = Role::assistant;
  auto block = [](BlockType type, std::string text, std::string signature = {}) {
    ContentBlock b;
    b.type = type;
    b.text = std::move(text);
    b.signature = std::move(signature);
    return b;
  };
  ContentBlock good = block(BlockType::thinking, "real", signer.sign("real"));
  ContentBlock forged = block(BlockType::thinking, "injected", signer.sign("real"));
  ContentBlock redacted = block(BlockType::redacted_thinking, "opaque");
  ContentBlock text = block(BlockType::text, "answer");
  assistant.content = {good, forged, redacted, text};
  request.messages.push_back(assistant);

  EXPECT_EQ(drop_unverified_thinking(request, signer), 2u);
  ASSERT_EQ(request.messages[0].content.size(), 2u);
  EXPECT_EQ(request.messages[0].content[0].text, "real");
  EXPECT_EQ(request.messages[0].content[1].type, BlockType::text);
}

}  // namespace
}  // namespace hearth::api
