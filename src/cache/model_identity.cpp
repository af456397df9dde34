#include "cache/model_identity.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>

namespace hearth::cache {
namespace {

struct Fnv {
  uint64_t hash = 0xcbf29ce484222325ULL;
  void add(const void* data, size_t size) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < size; ++i) {
      hash ^= bytes[i];
      hash *= 0x100000001b3ULL;
    }
  }
  void add(std::string_view s) {
    uint64_t n = s.size();
    add(&n, sizeof n);
    add(s.data(), s.size());
  }
  void add(uint64_t v) { add(&v, sizeof v); }
};

}  // namespace

std::string identity_of_files(std::string_view kind, const std::vector<std::filesystem::path>& files) {
  Fnv fnv;
  fnv.add(kind);
  for (const auto& file : files) {
    fnv.add(file.filename().string());
    std::error_code ec;
    const uint64_t size = std::filesystem::file_size(file, ec);
    if (ec) {
      fnv.add(std::string_view("absent"));
      continue;
    }
    fnv.add(size);
    auto mtime = std::filesystem::last_write_time(file, ec);
    if (!ec) fnv.add(static_cast<uint64_t>(mtime.time_since_epoch().count()));
    if (size < (1u << 20)) {
      std::ifstream in(file, std::ios::binary);
      std::string contents((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      fnv.add(contents);
    }
  }
  char hex[24];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv.hash));
  return std::string(kind) + " " + hex;
}

std::vector<std::filesystem::path> model_state_files(const std::filesystem::path& model_dir) {
  std::vector<std::filesystem::path> files{model_dir / "config.json"};
  std::vector<std::filesystem::path> weights;
  std::error_code ec;
  for (const auto& item : std::filesystem::directory_iterator(model_dir, ec)) {
    if (item.path().extension() == ".safetensors") weights.push_back(item.path());
  }
  std::sort(weights.begin(), weights.end());
  files.insert(files.end(), weights.begin(), weights.end());
  return files;
}

}  // namespace hearth::cache
