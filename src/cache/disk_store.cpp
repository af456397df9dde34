#include "cache/disk_store.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <streambuf>

#include "util/error.h"

namespace hearth::cache {
namespace {

constexpr char kMagic[8] = {'H', 'R', 'T', 'H', 'C', 'K', 'P', 'T'};
// Version 2 added the trailer: kEndMagic and a checksum of every byte before it.
constexpr uint32_t kVersion = 2;
constexpr char kEndMagic[8] = {'H', 'R', 'T', 'H', 'E', 'N', 'D', '2'};
constexpr size_t kTrailerBytes = sizeof kEndMagic + sizeof(uint64_t);
constexpr char kSuffix[] = ".ckpt";
constexpr char kTempSuffix[] = ".tmp";
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

// Checksum of a checkpoint file: 64-bit, eight bytes per step (a state is tens of MiB to GiBs, so a
// byte-at-a-time hash would cost more than the read). Not cryptographic: it catches truncation, torn
// writes and bit rot, not an adversary who can write the cache directory.
class Checksum {
 public:
  void update(const char* data, size_t size) {
    while (size > 0) {
      const size_t take = std::min(size, sizeof pending_ - pending_size_);
      std::memcpy(pending_ + pending_size_, data, take);
      pending_size_ += take;
      data += take;
      size -= take;
      if (pending_size_ == sizeof pending_) flush_words();
    }
  }
  uint64_t digest() const {
    Checksum copy = *this;
    copy.flush_words();  // the tail, zero-padded, then the length
    return copy.mix(copy.hash_ ^ copy.length_);
  }

 private:
  static uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
  }
  void flush_words() {
    if (pending_size_ == 0) return;
    std::memset(pending_ + pending_size_, 0, sizeof pending_ - pending_size_);
    for (size_t i = 0; i < sizeof pending_; i += 8) {
      uint64_t w;
      std::memcpy(&w, pending_ + i, 8);
      hash_ = (hash_ ^ (w * 0x9E3779B97F4A7C15ULL)) * 0x100000001b3ULL;
      hash_ ^= hash_ >> 29;
    }
    length_ += pending_size_;
    pending_size_ = 0;
  }
  uint64_t hash_ = 0xcbf29ce484222325ULL;
  uint64_t length_ = 0;
  char pending_[4096];
  size_t pending_size_ = 0;
};

// Forwards writes to `out`, checksumming them.
class ChecksumWriter : public std::streambuf {
 public:
  explicit ChecksumWriter(std::ostream& out) : out_(out) {}
  uint64_t digest() const { return sum_.digest(); }

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    sum_.update(s, static_cast<size_t>(n));
    out_.write(s, n);
    return out_ ? n : 0;
  }
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    const char ch = traits_type::to_char_type(c);
    return xsputn(&ch, 1) == 1 ? c : traits_type::eof();
  }

 private:
  std::ostream& out_;
  Checksum sum_;
};

// Reads at most `limit` bytes of `in` (the file before its trailer), checksumming what it hands out.
class ChecksumReader : public std::streambuf {
 public:
  ChecksumReader(std::istream& in, uint64_t limit) : in_(in), left_(limit) {}
  uint64_t digest() const { return sum_.digest(); }
  bool exhausted() { return gptr() == egptr() && underflow() == traits_type::eof(); }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (left_ == 0) return traits_type::eof();
    const size_t want = static_cast<size_t>(std::min<uint64_t>(left_, sizeof buffer_));
    in_.read(buffer_, static_cast<std::streamsize>(want));
    const size_t got = static_cast<size_t>(in_.gcount());
    if (got == 0) return traits_type::eof();
    left_ -= got;
    sum_.update(buffer_, got);
    setg(buffer_, buffer_, buffer_ + got);
    return traits_type::to_int_type(*gptr());
  }

 private:
  std::istream& in_;
  uint64_t left_;
  Checksum sum_;
  char buffer_[1 << 16];
};

// The trailer at the end of a file of `size` bytes: false when it is missing (a truncated file).
bool read_trailer(std::istream& in, uint64_t size, uint64_t& checksum) {
  if (size < kTrailerBytes) return false;
  char end[sizeof kEndMagic];
  in.clear();
  in.seekg(static_cast<std::streamoff>(size - kTrailerBytes));
  if (!in.read(end, sizeof end) || std::memcmp(end, kEndMagic, sizeof end) != 0) return false;
  return static_cast<bool>(in.read(reinterpret_cast<char*>(&checksum), sizeof checksum));
}

// A temporary file of a writer that is no longer running (killed mid-write): "NAME.ckpt.PID.tmp".
bool is_abandoned_temp(const std::filesystem::path& file) {
  const std::string name = file.filename().string();
  if (file.extension() != kTempSuffix) return false;
  const std::string stem = file.stem().string();  // NAME.ckpt.PID
  const size_t dot = stem.rfind('.');
  if (dot == std::string::npos) return false;
  const long pid = std::strtol(stem.c_str() + dot + 1, nullptr, 10);
  return pid > 0 && kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

struct Header {
  CheckpointKind kind = CheckpointKind::static_prefix;
  std::string identity;
  std::vector<Token> path;
};

// Reads the header; returns an empty string on success, else what is wrong.
std::string read_header(std::istream& in, Header& header, uint64_t file_size) {
  char magic[sizeof kMagic];
  if (!in.read(magic, sizeof magic) || std::memcmp(magic, kMagic, sizeof kMagic) != 0) return "not a hearth checkpoint";
  uint32_t version = 0;
  uint32_t kind = 0;
  if (!get(in, version) || version != kVersion) return "unsupported checkpoint version";
  if (!get(in, kind) || kind > static_cast<uint32_t>(CheckpointKind::generation_end)) return "bad checkpoint kind";
  header.kind = static_cast<CheckpointKind>(kind);
  uint64_t identity_size = 0;
  if (!get(in, identity_size) || identity_size > kMaxIdentity || identity_size > file_size) return "bad model identity";
  header.identity.resize(identity_size);
  if (!in.read(header.identity.data(), static_cast<std::streamsize>(identity_size))) return "truncated header";
  uint64_t path_size = 0;
  if (!get(in, path_size) || path_size == 0 || path_size > kMaxPath) return "bad token path length";
  if (path_size * sizeof(Token) > file_size) return "truncated token path";
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
    if (!item.is_regular_file()) continue;
    if (is_abandoned_temp(item.path())) {  // a write cut short by a crash: never renamed, never valid
      std::error_code ignored;
      std::filesystem::remove(item.path(), ignored);
      continue;
    }
    if (item.path().extension() != kSuffix) continue;
    std::ifstream in(item.path(), std::ios::binary);
    std::error_code size_error;
    const uint64_t size = std::filesystem::file_size(item.path(), size_error);
    Header header;
    std::string problem = in && !size_error ? read_header(in, header, size) : "cannot open";
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
    // Ours, but cut short (the trailer is the last thing written): useless, so removed. The checksum
    // itself is checked when the state is read.
    uint64_t checksum = 0;
    if (!read_trailer(in, size, checksum)) {
      warnings.push_back(item.path().string() + ": truncated checkpoint (removed)");
      in.close();
      std::error_code ignored;
      std::filesystem::remove(item.path(), ignored);
      continue;
    }
    found.push_back({name, std::move(header.path), header.kind, static_cast<size_t>(size)});
  }
  if (ec) warnings.push_back(dir_.string() + ": " + ec.message());
  return found;
}

PersistedCheckpoint DiskStore::write(std::span<const Token> path, CheckpointKind kind,
                                     const engine::StateSnapshot& snapshot, const engine::Model& model) const {
  std::string name = file_name(identity_, path);
  std::filesystem::path final_path = dir_ / name;
  // The writer's pid in the temporary name lets a later scan tell an abandoned file from one being written.
  std::filesystem::path temp_path = dir_ / (name + "." + std::to_string(getpid()) + kTempSuffix);
  {
    std::ofstream file(temp_path, std::ios::binary | std::ios::trunc);
    if (!file) throw Error("prompt cache: cannot write " + temp_path.string(), ErrorKind::io);
    ChecksumWriter summed(file);
    std::ostream out(&summed);
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
      file.close();
      std::filesystem::remove(temp_path);
      throw;
    }
    out.flush();
    const uint64_t checksum = summed.digest();
    file.write(kEndMagic, sizeof kEndMagic);
    put(file, checksum);
    file.flush();
    if (!out || !file) {
      file.close();
      std::filesystem::remove(temp_path);
      throw Error("prompt cache: writing " + temp_path.string() + " failed (disk full?)", ErrorKind::io);
    }
  }
  // On disk before it gets its valid name, so that a power cut leaves the old state or the whole new one.
  if (int fd = ::open(temp_path.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
    ::fsync(fd);
    ::close(fd);
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
  std::error_code size_error;
  const uint64_t size = std::filesystem::file_size(full, size_error);
  if (!in || size_error) throw Error("prompt cache: cannot open " + full.string(), ErrorKind::io);
  const auto refuse = [&](const std::string& problem) {
    return Error("prompt cache: " + full.string() + ": " + problem + " (not used)", ErrorKind::io);
  };
  uint64_t expected = 0;
  if (!read_trailer(in, size, expected)) throw refuse("truncated checkpoint");
  in.clear();
  in.seekg(0);
  ChecksumReader summed(in, size - kTrailerBytes);
  std::istream body(&summed);
  Header header;
  std::string problem = read_header(body, header, size);
  if (!problem.empty()) throw refuse(problem);
  if (header.identity != identity_ || !std::equal(header.path.begin(), header.path.end(), path.begin(), path.end())) {
    throw Error("prompt cache: " + full.string() + " holds another model's or another prompt's state", ErrorKind::io);
  }
  std::unique_ptr<engine::StateSnapshot> snapshot;
  try {
    snapshot = model.deserialize_state(body);
  } catch (const Error& e) {
    throw refuse(std::string("corrupt state: ") + e.what());
  }
  // Every byte up to the trailer belongs to the state, and the checksum covers them all: a state that
  // parsed but was damaged (bit rot, a torn write on a file system without atomic rename) is not trusted.
  if (!body || !summed.exhausted()) throw refuse("corrupt state: its size differs from the file's");
  if (summed.digest() != expected) throw refuse("checksum mismatch");
  if (!snapshot || snapshot->position() != static_cast<int64_t>(path.size())) {
    throw refuse("the state does not cover its token path");
  }
  return snapshot;
}

void DiskStore::remove(const std::string& file) const {
  std::error_code ec;
  std::filesystem::remove(dir_ / file, ec);
}

}  // namespace hearth::cache
