#include "cache/disk_store.h"

#include <cstdio>
#include <cstring>
#include <fstream>

#include "util/error.h"

namespace hearth::cache {
namespace {

constexpr char kMagic[8] = {'H', 'R', 'T', 'H', 'C', 'K', 'P', 'T'};
constexpr uint32_t kVersion = 1;
constexpr char kSuffix[] = ".ckpt";
// Bounds that keep a corrupt header from asking for absurd allocations.
constexpr uint64_t kMaxIdentity = 1 << 16;
constexpr uint64_t kMaxPath = 1 << 26;

// Fixed-width integers are stored little-endian, which is the byte order of every machine hearth targets
// (x86-64, aarch64); the raw copies below rely on it.
template <typename T>
void put(std::ostream& out, T value) {
  out.write(reinterpret_cast<const char*>(&value), sizeof value);
}

template <typename T>
bool get(std::istream& in, T& value) {
  return static_cast<bool>(in.read(reinterpret_cast<char*>(&value), sizeof value));
}

uint64_t fnv1a(uint64_t hash, const void* data, size_t size) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) {
    hash ^= bytes[i];
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

struct Header {
  CheckpointKind kind = CheckpointKind::static_prefix;
  std::string identity;
  std::vector<Token> path;
};

// Reads the header; returns an empty string on success, else what is wrong.
std::string read_header(std::istream& in, Header& header) {
  char magic[sizeof kMagic];
  if (!in.read(magic, sizeof magic) || std::memcmp(magic, kMagic, sizeof kMagic) != 0) return "not a hearth checkpoint";
  uint32_t version = 0;
  uint32_t kind = 0;
  if (!get(in, version) || version != kVersion) return "unsupported checkpoint version";
  if (!get(in, kind) || kind > static_cast<uint32_t>(CheckpointKind::generation_end)) return "bad checkpoint kind";
  header.kind = static_cast<CheckpointKind>(kind);
  uint64_t identity_size = 0;
  if (!get(in, identity_size) || identity_size > kMaxIdentity) return "bad model identity";
  header.identity.resize(identity_size);
  if (!in.read(header.identity.data(), static_cast<std::streamsize>(identity_size))) return "truncated header";
  uint64_t path_size = 0;
  if (!get(in, path_size) || path_size == 0 || path_size > kMaxPath) return "bad token path length";
  header.path.resize(path_size);
  if (!in.read(reinterpret_cast<char*>(header.path.data()), static_cast<std::streamsize>(path_size * sizeof(Token))))
    return "truncated token path";
  return {};
}

}  // namespace

DiskStore::DiskStore(std::filesystem::path dir, std::string model_identity)
    : dir_(std::move(dir)), identity_(std::move(model_identity)) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec || !std::filesystem::is_directory(dir_)) {
    throw Error("prompt cache: cannot create the cache directory " + dir_.string() + ": " + ec.message(), ErrorKind::io);
  }
}

std::string DiskStore::file_name(std::string_view model_identity, std::span<const Token> path) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  uint64_t size = model_identity.size();
  hash = fnv1a(hash, &size, sizeof size);
  hash = fnv1a(hash, model_identity.data(), model_identity.size());
  hash = fnv1a(hash, path.data(), path.size_bytes());
  char name[32];
  std::snprintf(name, sizeof name, "%016llx", static_cast<unsigned long long>(hash));
  return std::string(name) + kSuffix;
}

std::vector<PersistedCheckpoint> DiskStore::scan(std::vector<std::string>& warnings) const {
  std::vector<PersistedCheckpoint> found;
  std::error_code ec;
  for (const auto& item : std::filesystem::directory_iterator(dir_, ec)) {
    if (!item.is_regular_file() || item.path().extension() != kSuffix) continue;
    std::ifstream in(item.path(), std::ios::binary);
    Header header;
    std::string problem = in ? read_header(in, header) : "cannot open";
    if (!problem.empty()) {
      warnings.push_back(item.path().string() + ": " + problem + " (skipped)");
      continue;
    }
    if (header.identity != identity_) continue;  // another model's cache sharing the directory
    std::string name = item.path().filename().string();
    if (name != file_name(identity_, header.path)) {
      warnings.push_back(item.path().string() + ": name does not match its contents (skipped)");
      continue;
    }
    found.push_back({name, std::move(header.path), header.kind, static_cast<size_t>(item.file_size())});
  }
  if (ec) warnings.push_back(dir_.string() + ": " + ec.message());
  return found;
}

PersistedCheckpoint DiskStore::write(std::span<const Token> path, CheckpointKind kind,
                                     const engine::StateSnapshot& snapshot, const engine::Model& model) const {
  std::string name = file_name(identity_, path);
  std::filesystem::path final_path = dir_ / name;
  std::filesystem::path temp_path = dir_ / (name + ".tmp");
  {
    std::ofstream out(temp_path, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("prompt cache: cannot write " + temp_path.string(), ErrorKind::io);
    out.write(kMagic, sizeof kMagic);
    put(out, kVersion);
    put(out, static_cast<uint32_t>(kind));
    put(out, static_cast<uint64_t>(identity_.size()));
    out.write(identity_.data(), static_cast<std::streamsize>(identity_.size()));
    put(out, static_cast<uint64_t>(path.size()));
    out.write(reinterpret_cast<const char*>(path.data()), static_cast<std::streamsize>(path.size_bytes()));
    try {
      model.serialize_state(snapshot, out);
    } catch (...) {
      out.close();
      std::filesystem::remove(temp_path);
      throw;
    }
    out.flush();
    if (!out) {
      out.close();
      std::filesystem::remove(temp_path);
      throw Error("prompt cache: writing " + temp_path.string() + " failed (disk full?)", ErrorKind::io);
    }
  }
  std::error_code ec;
  std::filesystem::rename(temp_path, final_path, ec);
  if (ec) {
    std::filesystem::remove(temp_path, ec);
    throw Error("prompt cache: cannot rename " + temp_path.string() + ": " + ec.message(), ErrorKind::io);
  }
  std::vector<Token> copy(path.begin(), path.end());
  return {name, std::move(copy), kind, static_cast<size_t>(std::filesystem::file_size(final_path))};
}

std::unique_ptr<engine::StateSnapshot> DiskStore::read(const std::string& file, std::span<const Token> path,
                                                       const engine::Model& model) const {
  std::filesystem::path full = dir_ / file;
  std::ifstream in(full, std::ios::binary);
  if (!in) throw Error("prompt cache: cannot open " + full.string(), ErrorKind::io);
  Header header;
  std::string problem = read_header(in, header);
  if (!problem.empty()) throw Error("prompt cache: " + full.string() + ": " + problem, ErrorKind::io);
  if (header.identity != identity_ || !std::equal(header.path.begin(), header.path.end(), path.begin(), path.end())) {
    throw Error("prompt cache: " + full.string() + " holds another model's or another prompt's state", ErrorKind::io);
  }
  std::unique_ptr<engine::StateSnapshot> snapshot = model.deserialize_state(in);
  if (!snapshot || snapshot->position() != static_cast<int64_t>(path.size())) {
    throw Error("prompt cache: " + full.string() + ": the state does not cover its token path", ErrorKind::io);
  }
  return snapshot;
}

void DiskStore::remove(const std::string& file) const {
  std::error_code ec;
  std::filesystem::remove(dir_ / file, ec);
}

}  // namespace hearth::cache
