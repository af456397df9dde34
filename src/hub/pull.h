#pragma once
// `hearth pull REPO[@REVISION]`: downloads a repository snapshot into the local Hugging Face cache
// exactly as huggingface_hub lays it out (hf_cache.h), so other tools see it and `--model ORG/NAME`
// finds it:
//   blobs/<etag>                  the content (sha256 for LFS files, git blob sha1 for the others)
//   blobs/<etag>.incomplete       a partial download: the next attempt continues it with a Range request
//   snapshots/<commit>/<path>     relative symbolic links into blobs/
//   refs/<revision>               the commit, written once every file is in place
// Every file is checked against the hub's metadata (size, and sha256 or git sha1) before it becomes a
// blob; several files download at once. Progress goes to a PullObserver (the app renders it).
#include <cstdint>
#include <filesystem>
#include <string>

#include "hub/hf_cache.h"
#include "hub/http_client.h"
#include "hub/hub_api.h"

namespace hearth::hub {

enum class FileOutcome { downloaded, already_present };

// Called from the download threads, one call at a time (the puller serialises them).
class PullObserver {
 public:
  virtual ~PullObserver() = default;
  // `present_bytes`: bytes of complete blobs already in the cache.
  virtual void snapshot(const RemoteSnapshot& snapshot, uint64_t present_bytes) {}
  // `resumed_from` > 0: a partial download continues at that byte.
  virtual void file_started(const RemoteFile& file, uint64_t resumed_from) {}
  // Bytes of `file` received in this call (not a total).
  virtual void file_progress(const RemoteFile& file, uint64_t new_bytes) {}
  // A transfer broke; the next try continues at `offset`.
  virtual void file_retry(const RemoteFile& file, const std::string& why, uint64_t offset, int attempt) {}
  virtual void file_finished(const RemoteFile& file, FileOutcome outcome) {}
};

struct PullOptions {
  RepoRef ref;
  std::string endpoint;         // no trailing slash; default_endpoint() when empty
  std::string token;            // sent as a bearer token to the endpoint (HF_TOKEN)
  std::filesystem::path cache_dir;  // hub_cache_dir() when empty
  int parallel = 8;             // files downloaded at once
  int retries = 5;              // tries per file after a broken transfer, each continuing where it broke
  int retry_delay_ms = 500;     // doubled after each try
  HttpClient* client = nullptr; // make_http_client() when null
  PullObserver* observer = nullptr;
};

struct PullResult {
  CachedModel model;            // what --model REPO@REVISION now resolves to
  int files_downloaded = 0;
  int files_present = 0;
  uint64_t bytes_downloaded = 0;
};

// Throws hearth::Error: io for an unreachable hub (saying so), a broken transfer that retries did not
// mend, or a file whose size or digest does not match the metadata (the partial file is removed);
// not_found for a repository or revision the hub does not have.
PullResult pull(const PullOptions& options);

}  // namespace hearth::hub
