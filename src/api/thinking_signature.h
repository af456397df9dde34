#pragma once
// Signatures on the thinking blocks hearth emits, so that a thinking block a client sends back can be
// told apart from one the client wrote itself: HMAC-SHA256 over the thinking text under a key held by
// the server. Clients treat the signature as opaque; Claude Code returns it unchanged.
#include <string>
#include <string_view>

namespace hearth::api {

class ThinkingSigner {
 public:
  // `key`: any bytes; empty means a fresh random key (signatures then last as long as the process).
  explicit ThinkingSigner(std::string key = {});
  std::string sign(std::string_view thinking) const;
  bool verify(std::string_view thinking, std::string_view signature) const;

 private:
  std::string key_;
};

}  // namespace hearth::api

#include "api/types.h"

namespace hearth::api {
// Removes thinking blocks whose signature this signer did not make, and redacted_thinking blocks
// (opaque data hearth never produces), from assistant messages. Returns how many were removed.
// Hearth's choice for forged or foreign signatures: ignore the block rather than reject the request,
// so that a conversation survives a server restart (new key) or a switch from another provider.
size_t drop_unverified_thinking(MessagesRequest& request, const ThinkingSigner& signer);
}  // namespace hearth::api
