#pragma once
// Helpers shared by the libFuzzer targets of this folder (built by build_and_run.sh with clang++
// -fsanitize=fuzzer,address,undefined). A target reports a broken property with fail(), which aborts so
// that libFuzzer saves the input as a crash seed.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

namespace hearth::fuzz {

[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz property broken: %s\n", what.c_str());
  std::abort();
}

// The repository root: $HEARTH_SOURCE_DIR (build_and_run.sh sets it), else the current directory.
inline std::filesystem::path source_dir() {
  const char* dir = std::getenv("HEARTH_SOURCE_DIR");
  return dir ? std::filesystem::path(dir) : std::filesystem::current_path();
}

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Bytes consumed from the front of a fuzz input: structure-aware targets take their choices from here.
class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  // Up to `max` bytes as a string (the length is one byte of the input).
  std::string text(size_t max = 64) {
    size_t n = byte() % (max + 1);
    n = std::min(n, size_ - std::min(pos_, size_));
    std::string out(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return out;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace hearth::fuzz
