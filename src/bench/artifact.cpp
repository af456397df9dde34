#include "bench/artifact.h"

#include <algorithm>
#include <fstream>
#include <regex>
#include <vector>

#include <unistd.h>

#include "bench/subprocess.h"
#include "util/error.h"

namespace hearth::bench {
namespace fs = std::filesystem;

namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string sha256_of_file(const fs::path& file) {
  std::string out = capture_output({"sha256sum", "-b", file.string()}, {}, std::chrono::hours(1));
  return out.substr(0, out.find(' '));
}

std::string hash_directory(const fs::path& dir) {
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::follow_directory_symlink);
       it != fs::recursive_directory_iterator(); ++it) {
    if (it->path().filename() == ".git") {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  // The manifest names each file by its path relative to dir, so that moving the folder keeps the hash.
  fs::path manifest = fs::temp_directory_path() / ("hearth-artifact-" + std::to_string(::getpid()) + ".txt");
  {
    std::ofstream out(manifest, std::ios::binary);
    for (const auto& f : files) out << fs::relative(f, dir).generic_string() << '\0' << sha256_of_file(f) << '\n';
  }
  std::string hex = sha256_of_file(manifest);
  fs::remove(manifest);
  return hex;
}

}  // namespace

std::string artifact_identity(const fs::path& path) {
  if (!fs::exists(path)) throw Error("model artifact '" + path.string() + "' does not exist", ErrorKind::not_found);
  const fs::path canonical = fs::canonical(path);
  if (fs::is_regular_file(canonical)) return "sha256:" + sha256_of_file(canonical);

  static const std::regex hf_snapshot(R"(.*/models--([^/]+)--([^/]+)/snapshots/([0-9a-f]{7,64})$)");
  std::smatch m;
  const std::string text = canonical.generic_string();
  if (std::regex_match(text, m, hf_snapshot)) return "hf:" + m[1].str() + "/" + m[2].str() + "@" + m[3].str();

  if (fs::exists(canonical / ".git")) {
    std::string commit = trim(capture_output({"git", "rev-parse", "HEAD"}, canonical));
    std::string origin;
    try {
      origin = trim(capture_output({"git", "remote", "get-url", "origin"}, canonical));
    } catch (const Error&) {
      origin = canonical.string();
    }
    bool dirty = !trim(capture_output({"git", "status", "--porcelain"}, canonical)).empty();
    return "git:" + origin + "@" + commit + (dirty ? "+dirty" : "");
  }
  return "sha256:" + hash_directory(canonical);
}

}  // namespace hearth::bench
