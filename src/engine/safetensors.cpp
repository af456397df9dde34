#include "engine/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "util/error.h"

namespace hearth::engine {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr uint64_t kMaxHeaderBytes = 100ull << 20;  // the format's own limit

std::optional<DType> parse_dtype(const std::string& s) {
  if (s == "F32") return DType::f32;
  if (s == "F16") return DType::f16;
  if (s == "BF16") return DType::bf16;
  if (s == "U8") return DType::u8;
  if (s == "U32") return DType::u32;
  if (s == "I32") return DType::i32;
  return std::nullopt;
}

// Byte size of the dtypes hearth does not read, so their entries can still be validated.
size_t other_dtype_size(const std::string& s) {
  if (s == "F64" || s == "I64" || s == "U64") return 8;
  if (s == "I16" || s == "U16") return 2;
  if (s == "I8" || s == "BOOL" || s == "F8_E4M3" || s == "F8_E5M2" || s == "F8_E8M0") return 1;
  return 0;
}

[[noreturn]] void fail(const fs::path& path, const std::string& what) {
  throw Error(path.string() + ": " + what, ErrorKind::io);
}

}  // namespace

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string TensorInfo::shape_text() const {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::shared_ptr<SafetensorsFile> SafetensorsFile::open(const fs::path& path) {
  std::shared_ptr<SafetensorsFile> f(new SafetensorsFile());
  f->path_ = path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    ::close(fd);
    fail(path, "cannot stat");
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size < 8) {
    ::close(fd);
    fail(path, "file is " + std::to_string(size) + " bytes, too short for a safetensors header (truncated?)");
  }
  void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) fail(path, std::string("mmap failed: ") + std::strerror(errno));
  f->map_ = map;
  f->map_size_ = size;
  const uint8_t* base = static_cast<const uint8_t*>(map);

  uint64_t header_len = 0;
  std::memcpy(&header_len, base, 8);  // little-endian on every platform hearth builds for
  if (header_len > kMaxHeaderBytes) fail(path, "header length " + std::to_string(header_len) + " is not plausible (corrupt file?)");
  if (header_len > size - 8) {
    fail(path, "header length " + std::to_string(header_len) + " runs past the end of the " + std::to_string(size) +
                   "-byte file (truncated?)");
  }
  json header;
  try {
    header = json::parse(reinterpret_cast<const char*>(base + 8), reinterpret_cast<const char*>(base + 8 + header_len));
  } catch (const json::exception& e) {
    fail(path, std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) fail(path, "header is not a JSON object");
  const uint8_t* data = base + 8 + header_len;
  const uint64_t data_size = size - 8 - header_len;

  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const json& entry = it.value();
    if (name == "__metadata__") {
      if (entry.is_object()) {
        for (auto m = entry.begin(); m != entry.end(); ++m) {
          if (m.value().is_string()) f->metadata_[m.key()] = m.value().get<std::string>();
        }
      }
      continue;
    }
    auto bad = [&](const std::string& what) { fail(path, "tensor '" + name + "': " + what); };
    if (!entry.is_object()) bad("header entry is not an object");
    if (!entry.contains("dtype") || !entry["dtype"].is_string()) bad("missing dtype");
    if (!entry.contains("shape") || !entry["shape"].is_array()) bad("missing shape");
    if (!entry.contains("data_offsets") || !entry["data_offsets"].is_array() || entry["data_offsets"].size() != 2) {
      bad("missing data_offsets");
    }
    TensorInfo t;
    t.name = name;
    t.file = path.filename().string();
    t.dtype_text = entry["dtype"].get<std::string>();
    t.dtype = parse_dtype(t.dtype_text);
    size_t elem = t.dtype ? dtype_size(*t.dtype) : other_dtype_size(t.dtype_text);
    if (elem == 0) bad("unknown dtype '" + t.dtype_text + "'");
    uint64_t numel = 1;
    for (const json& d : entry["shape"]) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0) bad("shape has a non-integer or negative dimension");
      int64_t v = d.get<int64_t>();
      if (v != 0 && numel > std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(v)) bad("shape overflows");
      numel *= static_cast<uint64_t>(v);
      t.shape.push_back(v);
    }
    const json& off = entry["data_offsets"];
    if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned()) bad("data_offsets are not non-negative integers");
    uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    if (end < begin) bad("data_offsets end before they begin");
    if (end > data_size) {
      bad("data [" + std::to_string(begin) + ", " + std::to_string(end) + ") extends past the end of the file's " +
          std::to_string(data_size) + " data bytes: the file is truncated");
    }
    if (end - begin != numel * elem) {
      bad("holds " + std::to_string(end - begin) + " bytes but " + t.dtype_text + " " + t.shape_text() + " needs " +
          std::to_string(numel * elem));
    }
    t.data = data + begin;
    t.bytes = end - begin;
    f->tensors_.emplace(name, std::move(t));
  }
  return f;
}

SafetensorsFile::~SafetensorsFile() {
  if (map_) munmap(map_, map_size_);
}

WeightFiles WeightFiles::open_dir(const fs::path& dir) {
  WeightFiles w;
  w.dir_ = dir;
  const fs::path index_path = dir / "model.safetensors.index.json";
  std::vector<std::string> shard_names;
  json weight_map;
  if (fs::exists(index_path)) {
    std::ifstream in(index_path);
    json index;
    try {
      index = json::parse(in);
    } catch (const json::exception& e) {
      fail(index_path, std::string("not valid JSON: ") + e.what());
    }
    if (!index.contains("weight_map") || !index["weight_map"].is_object()) fail(index_path, "has no weight_map object");
    weight_map = index["weight_map"];
    std::set<std::string> shards;
    for (auto it = weight_map.begin(); it != weight_map.end(); ++it) {
      if (!it.value().is_string()) fail(index_path, "weight_map entry '" + it.key() + "' is not a file name");
      shards.insert(it.value().get<std::string>());
    }
    shard_names.assign(shards.begin(), shards.end());
    for (const auto& s : shard_names) {
      if (s.find('/') != std::string::npos || s == "..") fail(index_path, "shard name '" + s + "' is not a plain file name");
      if (!fs::exists(dir / s)) {
        fail(index_path, "names shard '" + s + "', which is missing from " + dir.string());
      }
    }
  } else if (fs::exists(dir / "model.safetensors")) {
    shard_names.push_back("model.safetensors");
  } else {
    if (fs::is_directory(dir)) {
      for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().extension() == ".safetensors") shard_names.push_back(e.path().filename().string());
      }
    }
    std::sort(shard_names.begin(), shard_names.end());
    if (shard_names.empty()) {
      throw Error(dir.string() + ": no model.safetensors, model.safetensors.index.json or *.safetensors files",
                  ErrorKind::not_found);
    }
  }
  for (const auto& s : shard_names) {
    auto f = SafetensorsFile::open(dir / s);
    if (w.format_.empty()) {
      auto it = f->metadata().find("format");
      if (it != f->metadata().end()) w.format_ = it->second;
    }
    for (const auto& [name, info] : f->tensors()) {
      if (w.index_.count(name)) {
        throw Error(dir.string() + ": tensor '" + name + "' appears in both " + w.index_[name]->file + " and " + s,
                    ErrorKind::io);
      }
      w.index_[name] = &info;
    }
    w.files_.push_back(std::move(f));
  }
  if (!weight_map.is_null()) {
    for (auto it = weight_map.begin(); it != weight_map.end(); ++it) {
      const TensorInfo* t = w.find(it.key());
      if (!t || t->file != it.value().get<std::string>()) {
        fail(index_path, "says tensor '" + it.key() + "' is in " + it.value().get<std::string>() + ", but it is not there");
      }
    }
  }
  return w;
}

void WeightFiles::read_all(const LoadProgressFn& progress) const {
  LoadProgress p;
  p.stage = LoadStage::read_weights;
  std::vector<const TensorInfo*> order;
  for (const auto& f : files_) {
    std::vector<const TensorInfo*> in_file;
    for (const auto& [_, t] : f->tensors()) in_file.push_back(&t);
    std::sort(in_file.begin(), in_file.end(), [](const TensorInfo* a, const TensorInfo* b) { return a->data < b->data; });
    order.insert(order.end(), in_file.begin(), in_file.end());
  }
  for (const TensorInfo* t : order) p.bytes_total += t->bytes;
  p.tensors_total = static_cast<int64_t>(order.size());
  if (progress) progress(p);
  constexpr size_t kPage = 4096, kReport = 64u << 20;
  uint64_t since_report = 0;
  volatile uint8_t sink = 0;
  for (const TensorInfo* t : order) {
    // One byte per page brings the page in; the kernel's read-ahead makes the walk sequential I/O.
    for (size_t off = 0; off < t->bytes; off += kPage) {
      sink = sink ^ t->data[off];
      if ((since_report += std::min(kPage, t->bytes - off)) >= kReport) {
        p.bytes_done += since_report;
        since_report = 0;
        if (progress) progress(p);
      }
    }
    ++p.tensors_done;
  }
  p.bytes_done = p.bytes_total;
  p.finished = true;
  if (progress) progress(p);
}

const TensorInfo* WeightFiles::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : it->second;
}

const TensorInfo& WeightFiles::get(const std::string& name) const {
  const TensorInfo* t = find(name);
  if (!t) throw Error(dir_.string() + ": missing tensor '" + name + "'", ErrorKind::io);
  return *t;
}

std::vector<std::string> WeightFiles::names() const {
  std::vector<std::string> out;
  for (const auto& [n, _] : index_) out.push_back(n);
  return out;
}

}  // namespace hearth::engine
