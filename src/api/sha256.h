#pragma once
// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), for signing thinking blocks. Written here rather than
// taken from OpenSSL: Debian's cpp-httplib already links libcrypto.so dynamically, and a second, static
// copy of libcrypto in the same binary would interpose its symbols.
#include <array>
#include <cstdint>
#include <string_view>

namespace hearth::api {

using Sha256Digest = std::array<uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  void update(std::string_view bytes);
  Sha256Digest finish();  // the object is spent afterwards

 private:
  void compress(const uint8_t* block);
  uint32_t state_[8];
  uint8_t buffer_[64];
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

Sha256Digest sha256(std::string_view bytes);
Sha256Digest hmac_sha256(std::string_view key, std::string_view message);

}  // namespace hearth::api

namespace hearth::api {
// Compares two secrets in time that depends only on `expected`'s length, not on where they differ.
bool constant_time_equal(std::string_view given, std::string_view expected);
}  // namespace hearth::api
