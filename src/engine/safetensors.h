#pragma once
// Memory-mapped safetensors weights: one file, or the shards named by model.safetensors.index.json.
// Tensors are never copied: a TensorInfo points into the mapping, which lives as long as the
// WeightFiles object. Every header entry is validated when a file is opened (dtype, shape, offsets
// inside the file, byte size); errors name the file and the tensor.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/load_progress.h"
#include "engine/weight_formats.h"

namespace hearth::engine {

struct TensorInfo {
  std::string name;
  std::string dtype_text;      // as written in the header ("BF16", "F8_E4M3", ...)
  std::optional<DType> dtype;  // empty for a dtype hearth does not read (an error only if requested)
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  size_t bytes = 0;
  std::string file;  // file name, for messages

  int64_t numel() const;
  std::string shape_text() const;  // "[2048, 256]"
};

// One mapped safetensors file.
class SafetensorsFile {
 public:
  // Throws hearth::Error naming the file and the problem (truncated, bad header, bad entry).
  static std::shared_ptr<SafetensorsFile> open(const std::filesystem::path& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  SafetensorsFile() = default;
  std::filesystem::path path_;
  void* map_ = nullptr;
  size_t map_size_ = 0;
  std::map<std::string, TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

// All weight files of a model directory.
class WeightFiles {
 public:
  // Opens model.safetensors.index.json's shards if the index exists, else model.safetensors, else
  // every *.safetensors file in the directory.
  static WeightFiles open_dir(const std::filesystem::path& dir);

  const TensorInfo* find(const std::string& name) const;
  const TensorInfo& get(const std::string& name) const;  // throws "missing tensor NAME"
  bool contains(const std::string& name) const { return find(name) != nullptr; }
  std::vector<std::string> names() const;
  // __metadata__ "format" of the first file ("pt", "mlx", ...), empty if none.
  std::string format() const { return format_; }
  const std::filesystem::path& dir() const { return dir_; }
  // Reads every tensor's bytes once, in file order (LoadStage::read_weights), so that the pages are in
  // memory before the backend uses them; reports at least every 64 MiB.
  void read_all(const LoadProgressFn& progress) const;

 private:
  std::filesystem::path dir_;
  std::vector<std::shared_ptr<SafetensorsFile>> files_;
  std::map<std::string, const TensorInfo*> index_;
  std::string format_;
};

}  // namespace hearth::engine
