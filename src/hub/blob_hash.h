#pragma once
// Digests the hub names its blobs by: sha256 of the content for LFS files (the hub's lfs.sha256 and
// the file's ETag), git's blob sha1 ("blob <size>\0" + content) for the others (the hub's blobId).
// Incremental, so a download is hashed as it arrives (OpenSSL's libcrypto, which cpp-httplib's TLS
// links anyway).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace hearth::hub {

enum class BlobDigest { sha256, git_sha1 };

class BlobHasher {
 public:
  // `size` is the whole content's size (git's blob header needs it up front).
  BlobHasher(BlobDigest kind, uint64_t size);
  ~BlobHasher();
  BlobHasher(const BlobHasher&) = delete;
  BlobHasher& operator=(const BlobHasher&) = delete;

  void update(std::string_view bytes);
  std::string hex();  // lower-case hex digest; ends the hash
  // Starts over (a server that ignored a Range request sends the file from its first byte).
  void reset();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hearth::hub
