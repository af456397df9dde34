#include "hub/hf_cache.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <vector>

#include "util/error.h"

namespace hearth::hub {
namespace {

namespace fs = std::filesystem;

// Hub repository names: letters, digits, '-', '_', '.'; not "." or "..".
bool is_name_part(std::string_view part) {
  if (part.empty() || part == "." || part == "..") return false;
  return std::all_of(part.begin(), part.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

// Branches and tags may hold '/' (refs/pr/1); none may climb out of the refs directory.
bool is_revision(std::string_view revision) {
  if (revision.empty() || revision.front() == '/' || revision.back() == '/') return false;
  size_t start = 0;
  while (start <= revision.size()) {
    const size_t slash = revision.find('/', start);
    const std::string_view part = revision.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (!is_name_part(part)) return false;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return true;
}

bool is_commit_hash(std::string_view s) {
  return s.size() == 40 && std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string read_ref(const fs::path& file) {
  std::ifstream in(file);
  std::string commit;
  std::getline(in, commit);
  while (!commit.empty() && (commit.back() == '\r' || commit.back() == ' ' || commit.back() == '\n')) commit.pop_back();
  return commit;
}

// What is there, for an error message: the refs (relative paths) or the snapshot names.
std::string listing(const fs::path& dir, bool recursive) {
  std::vector<std::string> names;
  std::error_code ec;
  if (recursive) {
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file()) names.push_back(fs::relative(it->path(), dir).generic_string());
    }
  } else {
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
      names.push_back(it->path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

std::optional<RepoRef> parse_repo_ref(std::string_view text) {
  RepoRef ref;
  const size_t at = text.find('@');
  if (at != std::string_view::npos) {
    ref.revision = std::string(text.substr(at + 1));
    if (!is_revision(ref.revision)) return std::nullopt;
    text = text.substr(0, at);
  }
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  if (!is_name_part(text.substr(0, slash)) || !is_name_part(text.substr(slash + 1))) return std::nullopt;
  ref.repo = std::string(text);
  return ref;
}

fs::path hub_cache_dir() {
  if (const std::string v = env("HF_HUB_CACHE"); !v.empty()) return v;
  if (const std::string v = env("HF_HOME"); !v.empty()) return fs::path(v) / "hub";
  if (const std::string v = env("XDG_CACHE_HOME"); !v.empty()) return fs::path(v) / "huggingface" / "hub";
  return fs::path(env("HOME")) / ".cache" / "huggingface" / "hub";
}

std::string CachedModel::describe() const { return repo + "@" + revision + " (commit " + commit + ")"; }

std::string CachedModel::name() const { return repo.substr(repo.find('/') + 1); }

CachedModel resolve_in_cache(const RepoRef& ref, const fs::path& cache_dir) {
  CachedModel out;
  out.repo = ref.repo;
  out.revision = ref.revision.empty() ? "main" : ref.revision;
  std::string folder = "models--" + ref.repo;
  folder.replace(folder.find('/'), 1, "--");
  const fs::path repo_dir = cache_dir / folder;
  if (!fs::is_directory(repo_dir)) {
    throw Error(ref.repo + " is not in the Hugging Face cache (no " + repo_dir.string() +
                    "); download it first (`hearth pull " + ref.repo +
                    "`), set HF_HUB_CACHE or HF_HOME to the cache it is in, or pass the model directory",
                ErrorKind::not_found);
  }
  // A branch or tag names its commit in refs/; a commit hash names the snapshot directly.
  const fs::path ref_file = repo_dir / "refs" / out.revision;
  if (fs::is_regular_file(ref_file)) {
    out.commit = read_ref(ref_file);
    if (!is_commit_hash(out.commit)) {
      throw Error(ref_file.string() + " does not hold a commit hash (got '" + out.commit + "')", ErrorKind::invalid_request);
    }
  } else if (is_commit_hash(out.revision)) {
    out.commit = out.revision;
  } else {
    throw Error(ref.repo + ": no revision '" + out.revision + "' in the cache (" + (repo_dir / "refs").string() +
                    " has: " + listing(repo_dir / "refs", true) + ")",
                ErrorKind::not_found);
  }
  out.dir = repo_dir / "snapshots" / out.commit;
  if (!fs::is_directory(out.dir)) {
    throw Error(ref.repo + "@" + out.revision + ": snapshot " + out.commit + " is not in the cache (snapshots there: " +
                    listing(repo_dir / "snapshots", false) + ")",
                ErrorKind::not_found);
  }
  if (!fs::exists(out.dir / "config.json")) {
    throw Error(ref.repo + "@" + out.revision + ": " + out.dir.string() +
                    " has no config.json (an unfinished or partial download?)",
                ErrorKind::not_found);
  }
  return out;
}

ModelLocation locate_model(const std::string& argument) {
  ModelLocation location;
  std::error_code ec;
  if (fs::exists(argument, ec)) {
    location.dir = argument;
    return location;
  }
  const std::optional<RepoRef> ref = parse_repo_ref(argument);
  if (!ref) {
    throw Error("--model " + argument + ": no such directory, and not a Hugging Face repository id (ORG/NAME[@REVISION])",
                ErrorKind::not_found);
  }
  location.from_hub = resolve_in_cache(*ref, hub_cache_dir());
  location.dir = location.from_hub->dir;
  return location;
}

}  // namespace hearth::hub
