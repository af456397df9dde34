#include "hub/pull.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "hub/blob_hash.h"
#include "util/error.h"

namespace hearth::hub {
namespace {

namespace fs = std::filesystem;

// Serialises the observer's calls (the download threads call it concurrently).
class SerialObserver {
 public:
  explicit SerialObserver(PullObserver* inner) : inner_(inner) {}
  template <typename F>
  void call(F&& f) {
    if (!inner_) return;
    std::lock_guard<std::mutex> lock(mutex_);
    f(*inner_);
  }

 private:
  PullObserver* inner_;
  std::mutex mutex_;
};

std::vector<std::pair<std::string, std::string>> auth_headers(const std::string& token) {
  std::vector<std::pair<std::string, std::string>> h = {{"User-Agent", "hearth"}};
  if (!token.empty()) h.emplace_back("Authorization", "Bearer " + token);
  return h;
}

std::string strip_etag(std::string etag) {
  if (etag.rfind("W/", 0) == 0) etag = etag.substr(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  return etag;
}

RemoteSnapshot fetch_snapshot(HttpClient& client, const PullOptions& o, const std::string& endpoint) {
  HttpGet get;
  get.url = model_info_url(endpoint, o.ref);
  get.headers = auth_headers(o.token);
  HttpResponse r;
  try {
    r = client.get(get);
  } catch (const Error& e) {
    throw Error("cannot reach the Hugging Face hub at " + endpoint + " (" + e.what() +
                    "). Offline? A model already in the cache runs without the network (hearth serve --model " +
                    o.ref.repo + "); --endpoint or HF_ENDPOINT choose another hub or a mirror",
                ErrorKind::io);
  }
  if (r.status != 200) {
    const ErrorKind kind = r.status == 404 ? ErrorKind::not_found : r.status == 401 || r.status == 403 ? ErrorKind::invalid_request : ErrorKind::io;
    throw Error(describe_hub_error(o.ref, r.status, r.headers, r.body), kind);
  }
  return parse_model_info(r.body, o.ref);
}

std::string relative_blob_link(const std::string& path, const std::string& etag) {
  std::string up = "../../";
  for (char c : path) {
    if (c == '/') up += "../";
  }
  return up + "blobs/" + etag;
}

void write_file_atomically(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  const fs::path tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw Error("cannot write " + tmp.string(), ErrorKind::io);
  }
  fs::rename(tmp, file);
}

// A failure that another try would not mend (wrong status, wrong content, a full disk).
struct FileRefused : Error {
  FileRefused(const std::string& path, const std::string& what) : Error(path + ": " + what, ErrorKind::io) {}
};

struct Job {
  const PullOptions& options;
  const std::string& endpoint;
  const RemoteSnapshot& snapshot;
  fs::path repo_dir;
  HttpClient& client;
  SerialObserver& observer;
  std::atomic<bool>& cancelled;
};

// Downloads one file into blobs/ (continuing a partial one), checks it and links it into the snapshot.
// Returns the bytes downloaded (0 when the blob was there already).
uint64_t fetch_file(const Job& job, const RemoteFile& file, FileOutcome& outcome) {
  const fs::path blob = job.repo_dir / "blobs" / file.etag();
  const fs::path partial = blob.string() + ".incomplete";
  uint64_t downloaded = 0;
  std::error_code ec;
  // One writer per blob: another thread fetching the same content under another path, or another
  // process pulling the same repository, waits here and then finds the blob complete. The lock file
  // sits where huggingface_hub keeps its own (<cache>/.locks/models--ORG--NAME/<etag>.lock).
  const fs::path lock_path = job.repo_dir.parent_path() / ".locks" / job.repo_dir.filename() / (file.etag() + ".lock");
  fs::create_directories(lock_path.parent_path());
  const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0) throw Error("cannot create " + lock_path.string(), ErrorKind::io);
  struct Unlock {
    int fd;
    ~Unlock() { ::close(fd); }  // closing releases the flock
  } unlock{lock_fd};
  while (::flock(lock_fd, LOCK_EX) != 0) {
    if (errno != EINTR) throw Error("cannot lock " + lock_path.string(), ErrorKind::io);
  }
  if (fs::is_regular_file(blob, ec) && fs::file_size(blob, ec) == file.size) {
    outcome = FileOutcome::already_present;
  } else {
    outcome = FileOutcome::downloaded;
    BlobHasher hasher(file.lfs() ? BlobDigest::sha256 : BlobDigest::git_sha1, file.size);
    uint64_t offset = fs::exists(partial, ec) ? fs::file_size(partial, ec) : 0;
    if (offset > file.size) {
      fs::remove(partial, ec);
      offset = 0;
    }
    if (offset > 0) {  // the bytes already there count towards the digest
      std::ifstream in(partial, std::ios::binary);
      std::vector<char> buf(1 << 20);
      uint64_t left = offset;
      while (left > 0 && in) {
        in.read(buf.data(), static_cast<std::streamsize>(std::min<uint64_t>(left, buf.size())));
        hasher.update(std::string_view(buf.data(), static_cast<size_t>(in.gcount())));
        left -= static_cast<uint64_t>(in.gcount());
      }
      if (left > 0) throw Error("cannot read " + partial.string(), ErrorKind::io);
    }
    FILE* out = std::fopen(partial.c_str(), "ab");
    if (!out) throw Error("cannot write " + partial.string(), ErrorKind::io);
    struct Closer {
      FILE*& f;
      ~Closer() {
        if (f) std::fclose(f);
      }
    } closer{out};
    job.observer.call([&](PullObserver& o) { o.file_started(file, offset); });
    int attempt = 0;
    int delay_ms = job.options.retry_delay_ms;
    const std::string url = file_url(job.endpoint, job.snapshot.repo, job.snapshot.commit, file.path);
    while (offset < file.size) {
      if (job.cancelled) throw Error("cancelled", ErrorKind::io);
      HttpGet get;
      get.url = url;
      get.headers = auth_headers(job.options.token);
      get.range_start = offset;
      bool accept = false;
      std::string refusal;
      get.on_response = [&](int status, const std::map<std::string, std::string>& headers) {
        if (status == 200 && offset > 0) {  // the server ignored the Range: start over
          out = std::freopen(partial.c_str(), "wb", out);
          hasher.reset();
          offset = 0;
          accept = out != nullptr;
        } else if (status == 206) {
          auto it = headers.find("content-range");
          const std::string expect = "bytes " + std::to_string(offset) + "-";
          accept = it != headers.end() && it->second.rfind(expect, 0) == 0;
          if (!accept) refusal = "a partial response for the wrong range (" + (it == headers.end() ? std::string("none") : it->second) + ")";
        } else {
          accept = status == 200;
        }
      };
      auto sink = [&](std::string_view bytes) {
        if (!accept || job.cancelled) return false;
        if (offset + bytes.size() > file.size) {
          refusal = "more bytes than the hub's metadata says (" + std::to_string(file.size) + ")";
          return false;
        }
        if (std::fwrite(bytes.data(), 1, bytes.size(), out) != bytes.size()) {
          refusal = "cannot write " + partial.string();
          return false;
        }
        hasher.update(bytes);
        offset += bytes.size();
        downloaded += bytes.size();
        job.observer.call([&](PullObserver& o) { o.file_progress(file, bytes.size()); });
        return true;
      };
      std::string broke;
      try {
        const HttpResponse r = job.client.get(get, sink);
        if (r.status == 401 || r.status == 403 || r.status == 404) {
          throw FileRefused(file.path, describe_hub_error(job.options.ref, r.status, r.headers, r.body));
        }
        if (!refusal.empty()) throw FileRefused(file.path, refusal);
        if (r.status >= 300) throw FileRefused(file.path, "HTTP " + std::to_string(r.status) + " from " + r.final_url);
        // The hub names the commit and the blob it served; they must be the ones asked for.
        if (auto it = r.first_headers.find("x-repo-commit"); it != r.first_headers.end() && it->second != job.snapshot.commit) {
          throw FileRefused(file.path, "the hub served commit " + it->second + ", not " + job.snapshot.commit);
        }
        auto etag = r.first_headers.find("x-linked-etag");
        if (etag == r.first_headers.end()) etag = r.first_headers.find("etag");
        if (etag != r.first_headers.end() && strip_etag(etag->second) != file.etag() && !strip_etag(etag->second).empty() &&
            strip_etag(etag->second).find('-') == std::string::npos) {
          throw FileRefused(file.path, "the hub's ETag " + strip_etag(etag->second) + " differs from its metadata's " + file.etag());
        }
        if (offset < file.size) broke = "the response ended after " + std::to_string(offset) + " of " + std::to_string(file.size) + " bytes";
      } catch (const FileRefused&) {
        throw;
      } catch (const Error& e) {
        if (!refusal.empty()) throw FileRefused(file.path, refusal);
        if (job.cancelled) throw;
        broke = e.what();
      }
      if (broke.empty()) continue;
      std::fflush(out);
      if (++attempt > job.options.retries) {
        throw Error(file.path + ": download failed after " + std::to_string(attempt) + " tries (" + broke +
                        "); run the same command again to continue from byte " + std::to_string(offset),
                    ErrorKind::io);
      }
      job.observer.call([&](PullObserver& o) { o.file_retry(file, broke, offset, attempt); });
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      delay_ms *= 2;
    }
    if (std::fclose(out) != 0) {
      out = nullptr;
      throw Error("cannot write " + partial.string(), ErrorKind::io);
    }
    out = nullptr;
    const std::string digest = hasher.hex();
    if (digest != file.etag()) {
      fs::remove(partial, ec);
      throw Error(file.path + ": " + (file.lfs() ? "sha256 " : "git blob sha1 ") + digest + " does not match the hub's " +
                      file.etag() + "; the download was refused and its partial file removed",
                  ErrorKind::io);
    }
    fs::rename(partial, blob);
  }
  const fs::path link = job.repo_dir / "snapshots" / job.snapshot.commit / file.path;
  fs::create_directories(link.parent_path());
  fs::remove(link, ec);
  fs::create_symlink(relative_blob_link(file.path, file.etag()), link);
  return downloaded;
}

}  // namespace

PullResult pull(const PullOptions& options) {
  std::unique_ptr<HttpClient> own_client;
  HttpClient* client = options.client;
  if (!client) {
    own_client = make_http_client();
    client = own_client.get();
  }
  const std::string endpoint = options.endpoint.empty() ? default_endpoint() : options.endpoint;
  const fs::path cache_dir = options.cache_dir.empty() ? hub_cache_dir() : options.cache_dir;
  const RemoteSnapshot snapshot = fetch_snapshot(*client, options, endpoint);

  std::string folder = "models--" + snapshot.repo;
  folder.replace(folder.find('/'), 1, "--");
  const fs::path repo_dir = cache_dir / folder;
  fs::create_directories(repo_dir / "blobs");
  fs::create_directories(repo_dir / "snapshots" / snapshot.commit);

  SerialObserver observer(options.observer);
  uint64_t present = 0;
  for (const RemoteFile& f : snapshot.files) {
    std::error_code ec;
    const fs::path blob = repo_dir / "blobs" / f.etag();
    if (fs::is_regular_file(blob, ec) && fs::file_size(blob, ec) == f.size) present += f.size;
  }
  observer.call([&](PullObserver& o) { o.snapshot(snapshot, present); });

  std::atomic<bool> cancelled{false};
  const Job job{options, endpoint, snapshot, repo_dir, *client, observer, cancelled};
  std::atomic<size_t> next{0};
  std::mutex result_mutex;
  PullResult result;
  std::string first_error;
  ErrorKind first_kind = ErrorKind::io;
  auto worker = [&] {
    while (!cancelled) {
      const size_t i = next++;
      if (i >= snapshot.files.size()) return;
      const RemoteFile& file = snapshot.files[i];
      try {
        FileOutcome outcome = FileOutcome::downloaded;
        const uint64_t bytes = fetch_file(job, file, outcome);
        observer.call([&](PullObserver& o) { o.file_finished(file, outcome); });
        std::lock_guard<std::mutex> lock(result_mutex);
        result.bytes_downloaded += bytes;
        (outcome == FileOutcome::downloaded ? result.files_downloaded : result.files_present)++;
      } catch (const Error& e) {
        std::lock_guard<std::mutex> lock(result_mutex);
        if (first_error.empty()) {
          first_error = e.what();
          first_kind = e.kind();
        }
        cancelled = true;
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(result_mutex);
        if (first_error.empty()) first_error = file.path + ": " + e.what();
        cancelled = true;
      }
    }
  };
  const size_t threads = std::clamp<size_t>(static_cast<size_t>(std::max(1, options.parallel)), 1, std::max<size_t>(1, snapshot.files.size()));
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (std::thread& t : pool) t.join();
  if (!first_error.empty()) throw Error(snapshot.repo + "@" + snapshot.revision + ": " + first_error, first_kind);

  // Only a complete snapshot gets its name: `--model REPO@REVISION` never finds a half-downloaded one.
  if (snapshot.revision != snapshot.commit) write_file_atomically(repo_dir / "refs" / snapshot.revision, snapshot.commit);
  result.model.dir = repo_dir / "snapshots" / snapshot.commit;
  result.model.repo = snapshot.repo;
  result.model.revision = snapshot.revision;
  result.model.commit = snapshot.commit;
  return result;
}

}  // namespace hearth::hub
