// libFuzzer target for the --cache-dir snapshot reader (cache/disk_store.h): the input is written as a
// checkpoint file under the name its (fuzzed) header would have, then scanned and read back as the
// prompt cache does at start-up and on a hit. A truncated or corrupted file must be refused with
// hearth::Error(io) or a scan warning, never crash, never be trusted: a file that reads back must carry
// an intact checksum, so its state is exactly what was written. The model is the cache tests' fake.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "cache/disk_store.h"
#include "fake_model.h"
#include "fuzz_util.h"
#include "util/error.h"

namespace {

using hearth::fuzz::fail;
namespace fs = std::filesystem;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fs::path dir = fs::temp_directory_path() / ("hearth-fuzz-ckpt-" + std::to_string(getpid()));
  static const hearth::cache::testing::FakeModel model;
  static const hearth::cache::DiskStore store(dir, "fuzz-model");
  for (const auto& entry : fs::directory_iterator(dir)) fs::remove(entry.path());
  // Written under a fixed name first; a file whose header names a path is renamed to that path's name
  // (the only name scan accepts), so that the reader behind the header is reached.
  const fs::path raw = dir / "0000000000000000.ckpt";
  {
    std::ofstream out(raw, std::ios::binary);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  std::vector<std::string> warnings;
  auto found = store.scan(warnings);
  if (found.empty()) {
    // Retry under the name the header's path would give, when the header is readable that far.
    for (size_t path_size = 1; path_size <= 8 && found.empty(); ++path_size) {
      const size_t at = 8 + 4 + 4 + 8 + 10 + 8;  // magic, version, kind, identity size, "fuzz-model", path size
      if (size < at + path_size * 4) break;
      std::vector<hearth::cache::Token> path(path_size);
      std::memcpy(path.data(), data + at, path_size * 4);
      const fs::path named = dir / hearth::cache::DiskStore::file_name("fuzz-model", path);
      fs::rename(raw, named);
      warnings.clear();
      found = store.scan(warnings);
      if (!fs::exists(named)) break;  // removed by the scan (truncated)
      if (found.empty()) fs::rename(named, raw);
    }
  }
  for (const auto& saved : found) {
    try {
      auto snapshot = store.read(saved.file, saved.path, model);
      if (!snapshot) fail("read returned no snapshot");
      if (snapshot->position() != static_cast<int64_t>(saved.path.size())) fail("snapshot does not cover its path");
    } catch (const hearth::Error& e) {
      if (e.kind() != hearth::ErrorKind::io) fail(std::string("refused with a non-io error: ") + e.what());
    } catch (const std::exception& e) {
      fail(std::string("unexpected exception: ") + e.what());
    }
  }
  return 0;
}
