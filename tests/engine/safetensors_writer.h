#pragma once
// Test helper: builds safetensors files (and whole model directories) from tensors held in memory,
// so loader tests can write good, renamed and deliberately broken variants of the tiny models.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/safetensors.h"

namespace hearth::engine::testing {

struct RawTensor {
  std::string dtype;  // "BF16", "U32", ...
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

using TensorMap = std::map<std::string, RawTensor>;

inline TensorMap read_all_tensors(const std::filesystem::path& dir) {
  TensorMap out;
  WeightFiles files = WeightFiles::open_dir(dir);
  for (const auto& name : files.names()) {
    const TensorInfo& t = files.get(name);
    out[name] = RawTensor{t.dtype_text, t.shape, std::vector<uint8_t>(t.data, t.data + t.bytes)};
  }
  return out;
}

inline void write_safetensors(const std::filesystem::path& path, const TensorMap& tensors, const std::string& format = "pt") {
  nlohmann::json header;
  header["__metadata__"] = {{"format", format}};
  size_t offset = 0;
  for (const auto& [name, t] : tensors) {
    header[name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string h = header.dump();
  while (h.size() % 8) h += ' ';
  std::ofstream out(path, std::ios::binary);
  const uint64_t len = h.size();
  out.write(reinterpret_cast<const char*>(&len), 8);
  out.write(h.data(), static_cast<std::streamsize>(h.size()));
  for (const auto& [name, t] : tensors) out.write(reinterpret_cast<const char*>(t.bytes.data()), static_cast<std::streamsize>(t.bytes.size()));
}

// A fresh directory under the test temp dir, holding a copy of `source`'s config.json.
inline std::filesystem::path scratch_model_dir(const std::string& name, const std::filesystem::path& source) {
  const auto dir = std::filesystem::temp_directory_path() / ("hearth-engine-test-" + std::to_string(::getpid()) + "-" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(source / "config.json", dir / "config.json");
  return dir;
}

}  // namespace hearth::engine::testing
