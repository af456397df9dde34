#include "hub/hub_api.h"

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "util/error.h"

namespace hearth::hub {
namespace {

bool is_hex(const std::string& s, size_t length) {
  if (s.size() != length) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// A repository path that stays inside the snapshot: relative, no "." or ".." parts, no empty parts.
bool is_safe_path(const std::string& path) {
  if (path.empty() || path.front() == '/' || path.find('\\') != std::string::npos || path.find('\0') != std::string::npos) {
    return false;
  }
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    const std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (slash == std::string::npos) return true;
    start = slash + 1;
  }
}

}  // namespace

uint64_t RemoteSnapshot::total_bytes() const {
  uint64_t total = 0;
  for (const RemoteFile& f : files) total += f.size;
  return total;
}

std::string default_endpoint() {
  const char* v = std::getenv("HF_ENDPOINT");
  std::string endpoint = v && *v ? v : "https://huggingface.co";
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  return endpoint;
}

std::string url_encode(const std::string& text, bool keep_slashes) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                       c == '_' || c == '.' || c == '~' || (keep_slashes && c == '/');
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

std::string model_info_url(const std::string& endpoint, const RepoRef& ref) {
  const std::string revision = ref.revision.empty() ? "main" : ref.revision;
  // The revision is one path segment: refs/pr/1 travels as refs%2Fpr%2F1.
  return endpoint + "/api/models/" + ref.repo + "/revision/" + url_encode(revision, false) + "?blobs=true";
}

std::string file_url(const std::string& endpoint, const std::string& repo, const std::string& commit,
                     const std::string& path) {
  return endpoint + "/" + repo + "/resolve/" + commit + "/" + url_encode(path, true);
}

RemoteSnapshot parse_model_info(const std::string& body, const RepoRef& ref) {
  RemoteSnapshot out;
  out.repo = ref.repo;
  out.revision = ref.revision.empty() ? "main" : ref.revision;
  const std::string what = "the hub's metadata for " + ref.repo + "@" + out.revision;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(body);
  } catch (const nlohmann::json::exception&) {
    throw Error(what + " is not JSON (is the endpoint a Hugging Face hub?)", ErrorKind::io);
  }
  if (!j.is_object() || !j.contains("sha") || !j["sha"].is_string() || !is_hex(j["sha"].get<std::string>(), 40)) {
    throw Error(what + " has no commit hash (\"sha\")", ErrorKind::io);
  }
  out.commit = j["sha"].get<std::string>();
  if (!j.contains("siblings") || !j["siblings"].is_array()) throw Error(what + " lists no files (\"siblings\")", ErrorKind::io);
  for (const auto& s : j["siblings"]) {
    RemoteFile f;
    if (!s.is_object() || !s.contains("rfilename") || !s["rfilename"].is_string()) {
      throw Error(what + " has a file entry without a name", ErrorKind::io);
    }
    f.path = s["rfilename"].get<std::string>();
    if (!is_safe_path(f.path)) throw Error(what + " names a file outside the repository: '" + f.path + "'", ErrorKind::io);
    if (!s.contains("size") || !s["size"].is_number_unsigned()) {
      throw Error(what + ": " + f.path + " has no size (the hub answers sizes with ?blobs=true)", ErrorKind::io);
    }
    f.size = s["size"].get<uint64_t>();
    if (s.contains("blobId") && s["blobId"].is_string()) f.blob_id = s["blobId"].get<std::string>();
    if (s.contains("lfs") && s["lfs"].is_object()) {
      const auto& lfs = s["lfs"];
      if (!lfs.contains("sha256") || !lfs["sha256"].is_string() || !is_hex(lfs["sha256"].get<std::string>(), 64)) {
        throw Error(what + ": " + f.path + " is an LFS file without a sha256", ErrorKind::io);
      }
      f.lfs_sha256 = lfs["sha256"].get<std::string>();
      if (lfs.contains("size") && lfs["size"].is_number_unsigned() && lfs["size"].get<uint64_t>() != f.size) {
        throw Error(what + ": " + f.path + " has two sizes (" + std::to_string(f.size) + " and LFS " +
                        std::to_string(lfs["size"].get<uint64_t>()) + ")",
                    ErrorKind::io);
      }
    } else if (!is_hex(f.blob_id, 40)) {
      throw Error(what + ": " + f.path + " has no blob id to check it against", ErrorKind::io);
    }
    out.files.push_back(std::move(f));
  }
  return out;
}

std::string describe_hub_error(const RepoRef& ref, int status, const std::map<std::string, std::string>& headers,
                               const std::string& body) {
  const std::string revision = ref.revision.empty() ? "main" : ref.revision;
  std::string code;
  if (auto it = headers.find("x-error-code"); it != headers.end()) code = it->second;
  std::string detail;
  try {
    const auto j = nlohmann::json::parse(body);
    if (j.is_object() && j.contains("error") && j["error"].is_string()) detail = j["error"].get<std::string>();
  } catch (const nlohmann::json::exception&) {
  }
  std::string message;
  if (code == "RevisionNotFound") {
    message = ref.repo + " has no revision '" + revision + "' (a branch, tag or commit hash)";
  } else if (code == "RepoNotFound" || (status == 404 && code.empty())) {
    message = ref.repo + " was not found on the hub (a typo, or a private repository: set HF_TOKEN)";
  } else if (code == "GatedRepo") {
    message = ref.repo + " is gated: accept its terms on the hub's page, then set HF_TOKEN to a token of that account";
  } else if (status == 401 || status == 403) {
    message = ref.repo + ": access refused (HTTP " + std::to_string(status) + "); set HF_TOKEN to a token that can read it";
  } else {
    message = ref.repo + "@" + revision + ": the hub answered HTTP " + std::to_string(status);
  }
  if (!detail.empty()) message += " (hub: " + detail + ")";
  return message;
}

}  // namespace hearth::hub
