#pragma once
// The Hugging Face hub's HTTP API as huggingface_hub uses it to download a snapshot:
//   GET {endpoint}/api/models/{repo}/revision/{revision}?blobs=true
//       -> {"sha": COMMIT, "siblings": [{"rfilename", "size", "blobId", "lfs": {"sha256", "size"}}]}
//   GET {endpoint}/{repo}/resolve/{commit}/{path}    (redirects to a CDN for LFS files; answers Range)
// Errors come as 401/403/404 with an X-Error-Code header (RepoNotFound, RevisionNotFound, GatedRepo,
// EntryNotFound) and a JSON {"error": ...} body.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "hub/hf_cache.h"

namespace hearth::hub {

struct RemoteFile {
  std::string path;        // in the repository ("model-00001-of-00004.safetensors", "sub/dir/x.json")
  uint64_t size = 0;
  std::string blob_id;     // git blob sha1
  std::string lfs_sha256;  // empty for a file kept in git itself
  bool lfs() const { return !lfs_sha256.empty(); }
  // The blob's name in the cache (huggingface_hub names it by the file's ETag: the sha256 for LFS
  // files, the git blob id for the others).
  const std::string& etag() const { return lfs() ? lfs_sha256 : blob_id; }
};

struct RemoteSnapshot {
  std::string repo;
  std::string revision;  // as asked ("main" when none was)
  std::string commit;
  std::vector<RemoteFile> files;
  uint64_t total_bytes() const;
};

std::string default_endpoint();  // $HF_ENDPOINT, else https://huggingface.co (no trailing slash)

std::string model_info_url(const std::string& endpoint, const RepoRef& ref);
std::string file_url(const std::string& endpoint, const std::string& repo, const std::string& commit,
                     const std::string& path);
std::string url_encode(const std::string& text, bool keep_slashes);

// Parses the model-info JSON. Throws hearth::Error(io) for a body that is not what the hub sends (no
// commit, a file without size or blob id, a path that would leave the snapshot directory).
RemoteSnapshot parse_model_info(const std::string& json, const RepoRef& ref);

// The message for a failed hub request: what is missing (repository, revision, access) and what to do.
std::string describe_hub_error(const RepoRef& ref, int status, const std::map<std::string, std::string>& headers,
                               const std::string& body);

}  // namespace hearth::hub
