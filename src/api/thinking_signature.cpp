#include "api/thinking_signature.h"

#include "api/ids.h"
#include "api/sha256.h"

namespace hearth::api {
namespace {

// Versioned, so that a later scheme can still recognise (and refuse) signatures of this one.
constexpr std::string_view kPrefix = "hearth1.";
// Domain separation: the key signs nothing else, but a tag keeps future uses apart.
constexpr std::string_view kDomain = "hearth thinking block\n";

std::string base64url(const Sha256Digest& bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 63]);
  return out;
}

}  // namespace

ThinkingSigner::ThinkingSigner(std::string key) : key_(key.empty() ? random_bytes(32) : std::move(key)) {}

std::string ThinkingSigner::sign(std::string_view thinking) const {
  std::string message(kDomain);
  message.append(thinking);
  return std::string(kPrefix) + base64url(hmac_sha256(key_, message));
}

bool ThinkingSigner::verify(std::string_view thinking, std::string_view signature) const {
  return constant_time_equal(signature, sign(thinking));
}

}  // namespace hearth::api

namespace hearth::api {
size_t drop_unverified_thinking(MessagesRequest& request, const ThinkingSigner& signer) {
  size_t dropped = 0;
  for (Message& message : request.messages) {
    std::vector<ContentBlock> kept;
    kept.reserve(message.content.size());
    for (ContentBlock& block : message.content) {
      bool forged = (block.type == BlockType::thinking && !signer.verify(block.text, block.signature)) ||
                    block.type == BlockType::redacted_thinking;
      if (forged) {
        ++dropped;
      } else {
        kept.push_back(std::move(block));
      }
    }
    message.content = std::move(kept);
  }
  return dropped;
}
}  // namespace hearth::api
