// hearth pull: downloads a model repository into the local Hugging Face cache (hub/pull.h), where
// `--model ORG/NAME[@REV]` (and every huggingface_hub-based tool) finds it.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

#include "app/args.h"
#include "app/command.h"
#include "app/progress_display.h"
#include "hub/pull.h"
#include "util/error.h"

namespace {

using hearth::Error;
using hearth::ErrorKind;
namespace hub = hearth::hub;
namespace app = hearth::app;

constexpr const char* kUsage =
    "usage: hearth pull ORG/NAME[@REVISION] [--endpoint URL] [--cache-dir DIR] [--parallel N]\n"
    "Downloads a model repository from the Hugging Face hub into the local hub cache, laid out as\n"
    "huggingface_hub does (models--ORG--NAME/{blobs,snapshots/COMMIT,refs/REVISION}), so that\n"
    "`hearth serve --model ORG/NAME[@REVISION]` and other tools use it in place.\n"
    "  REVISION      branch, tag or commit hash (default main)\n"
    "  --endpoint    the hub (default $HF_ENDPOINT, else https://huggingface.co)\n"
    "  --cache-dir   the cache (default $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub)\n"
    "  --parallel    files downloaded at once (default 8)\n"
    "Private and gated repositories need a token: $HF_TOKEN, or the one `huggingface-cli login` saved.\n"
    "An interrupted download continues where it stopped when run again (partial files are kept as\n"
    "blobs/*.incomplete). Every file's size and sha256 (git sha1 for small files) are checked against\n"
    "the hub's metadata; a file that does not match is refused and removed.\n";

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// $HF_TOKEN, else the token file huggingface_hub's login writes ($HF_TOKEN_PATH, $HF_HOME/token,
// ~/.cache/huggingface/token).
std::string find_token() {
  if (std::string t = env("HF_TOKEN"); !t.empty()) return t;
  if (std::string t = env("HUGGING_FACE_HUB_TOKEN"); !t.empty()) return t;
  std::string path = env("HF_TOKEN_PATH");
  if (path.empty()) path = (env("HF_HOME").empty() ? env("HOME") + "/.cache/huggingface" : env("HF_HOME")) + "/token";
  std::ifstream in(path);
  std::string token;
  std::getline(in, token);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  return token;
}

// Terminal: one status line (bar, bytes, rate, ETA, files). Otherwise: one line per file.
class PullProgress final : public hub::PullObserver {
 public:
  explicit PullProgress(app::ProgressDisplay& display) : display_(display) {}

  void snapshot(const hub::RemoteSnapshot& s, uint64_t present) override {
    total_ = s.total_bytes();
    done_ = present;
    files_ = s.files.size();
    display_.line(s.repo + "@" + s.revision + ": commit " + s.commit + ", " + std::to_string(s.files.size()) +
                  " files, " + app::format_bytes(static_cast<double>(total_)) +
                  (present ? " (" + app::format_bytes(static_cast<double>(present)) + " already in the cache)" : ""));
    meter_.add(done_);
  }
  void file_started(const hub::RemoteFile& f, uint64_t resumed_from) override {
    ++active_;
    if (resumed_from > 0) {
      done_ += resumed_from;
      display_.line("  " + f.path + ": continuing at " + app::format_bytes(static_cast<double>(resumed_from)) + " of " +
                    app::format_bytes(static_cast<double>(f.size)));
    }
    redraw(true);
  }
  void file_progress(const hub::RemoteFile&, uint64_t bytes) override {
    done_ += bytes;
    meter_.add(done_);
    redraw(false);
  }
  void file_retry(const hub::RemoteFile& f, const std::string& why, uint64_t offset, int attempt) override {
    display_.line("  " + f.path + ": " + why + "; retrying from " + app::format_bytes(static_cast<double>(offset)) +
                  " (try " + std::to_string(attempt + 1) + ")");
  }
  void file_finished(const hub::RemoteFile& f, hub::FileOutcome outcome) override {
    ++finished_;
    const std::string size = app::format_bytes(static_cast<double>(f.size));
    if (outcome == hub::FileOutcome::downloaded) {
      --active_;
      display_.line("  " + f.path + " (" + size + ", " + (f.lfs() ? "sha256" : "git sha1") + " checked)");
    } else {
      display_.line("  " + f.path + " (" + size + ", already in the cache)");
    }
    redraw(true);
  }

 private:
  void redraw(bool force) {
    const double fraction = total_ ? static_cast<double>(done_) / static_cast<double>(total_) : 1.0;
    std::string text = app::progress_bar(fraction, 30) + " " + app::format_bytes(static_cast<double>(done_)) + " / " +
                       app::format_bytes(static_cast<double>(total_));
    if (const double rate = meter_.bytes_per_second(); rate > 0) {
      text += "  " + app::format_bytes(rate) + "/s  " + meter_.eta(total_ - std::min(done_, total_));
    }
    text += "  files " + std::to_string(finished_) + "/" + std::to_string(files_);
    display_.status(text, force);
  }

  app::ProgressDisplay& display_;
  app::RateMeter meter_;
  uint64_t total_ = 0, done_ = 0;
  size_t files_ = 0, finished_ = 0;
  int active_ = 0;
};

int parse_parallel(const std::string& v) {
  char* end = nullptr;
  const long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end || n < 1 || n > 64) throw Error("--parallel: '" + v + "' is not a number from 1 to 64", ErrorKind::invalid_request);
  return static_cast<int>(n);
}

int run_pull(int argc, char** argv) {
  hub::PullOptions options;
  std::string repo;
  app::ArgCursor args(argc, argv);
  while (args.more()) {
    const std::string arg = args.next();
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--endpoint") {
      options.endpoint = args.value();
      while (!options.endpoint.empty() && options.endpoint.back() == '/') options.endpoint.pop_back();
    } else if (arg == "--cache-dir") {
      options.cache_dir = args.value();
    } else if (arg == "--parallel") {
      options.parallel = parse_parallel(args.value());
    } else if (!arg.empty() && arg[0] == '-') {
      throw Error("unknown option '" + arg + "'\n" + kUsage, ErrorKind::invalid_request);
    } else if (repo.empty()) {
      repo = arg;
    } else {
      throw Error("one repository at a time (got '" + repo + "' and '" + arg + "')", ErrorKind::invalid_request);
    }
  }
  if (repo.empty()) throw Error(std::string("which repository? ORG/NAME[@REVISION]\n") + kUsage, ErrorKind::invalid_request);
  const auto ref = hub::parse_repo_ref(repo);
  if (!ref) throw Error("'" + repo + "' is not a repository id (ORG/NAME or ORG/NAME@REVISION)", ErrorKind::invalid_request);
  if (const std::string offline = env("HF_HUB_OFFLINE"); !offline.empty() && offline != "0" && offline != "false") {
    throw Error("HF_HUB_OFFLINE is set: not downloading " + repo + " (unset it to reach the hub)", ErrorKind::io);
  }
  options.ref = *ref;
  options.token = find_token();

  app::ProgressDisplay display;
  PullProgress progress(display);
  options.observer = &progress;
  const hub::PullResult result = hub::pull(options);
  display.clear_status();
  std::fprintf(stderr, "%s: %d file(s) downloaded (%s), %d already present\n", result.model.describe().c_str(),
               result.files_downloaded, app::format_bytes(static_cast<double>(result.bytes_downloaded)).c_str(),
               result.files_present);
  std::printf("%s\n", result.model.dir.c_str());
  std::fprintf(stderr, "serve it with: hearth serve --model %s%s\n", result.model.repo.c_str(),
               ref->revision.empty() ? "" : ("@" + ref->revision).c_str());
  return 0;
}

const hearth::app::CommandRegistration reg{"pull", "Download a model from the Hugging Face hub into the local cache",
                                           run_pull};

}  // namespace
