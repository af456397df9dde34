#include "hub/blob_hash.h"

#include <openssl/evp.h>

#include "util/error.h"

namespace hearth::hub {

struct BlobHasher::Impl {
  BlobDigest kind;
  uint64_t size;
  EVP_MD_CTX* ctx = nullptr;
};

BlobHasher::BlobHasher(BlobDigest kind, uint64_t size) : impl_(std::make_unique<Impl>()) {
  impl_->kind = kind;
  impl_->size = size;
  impl_->ctx = EVP_MD_CTX_new();
  if (!impl_->ctx) throw Error("out of memory for a hash context", ErrorKind::internal);
  reset();
}

BlobHasher::~BlobHasher() { EVP_MD_CTX_free(impl_->ctx); }

void BlobHasher::reset() {
  const EVP_MD* md = impl_->kind == BlobDigest::sha256 ? EVP_sha256() : EVP_sha1();
  if (EVP_DigestInit_ex(impl_->ctx, md, nullptr) != 1) throw Error("cannot start a hash", ErrorKind::internal);
  if (impl_->kind == BlobDigest::git_sha1) {
    const std::string header = "blob " + std::to_string(impl_->size);
    EVP_DigestUpdate(impl_->ctx, header.data(), header.size() + 1);  // with its terminating NUL
  }
}

void BlobHasher::update(std::string_view bytes) { EVP_DigestUpdate(impl_->ctx, bytes.data(), bytes.size()); }

std::string BlobHasher::hex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(impl_->ctx, digest, &n);
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    out += digits[digest[i] >> 4];
    out += digits[digest[i] & 15];
  }
  return out;
}

}  // namespace hearth::hub
