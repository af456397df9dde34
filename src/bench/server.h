#pragma once
// The hearth server a benchmark talks to: one already running (given by URL), or `hearth serve` started
// by the runner for each model and stopped after it.
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bench/subprocess.h"

namespace hearth::bench {

// A TCP port on 127.0.0.1 that was free a moment ago.
int pick_free_port();

// GET {base_url}/health answered 200 (only http://host:port URLs).
bool server_healthy(const std::string& base_url);

struct ServeSpec {
  std::vector<std::string> argv;      // the full command, e.g. {"build/src/app/hearth", "serve", "--port", "8123", ...}
  std::string base_url;               // where it will listen
  std::filesystem::path log_path;     // its stdout and stderr
  std::chrono::seconds startup_timeout{600};  // loading a large model takes a while
};

class StartedServer {
 public:
  // Starts the command and waits until /health answers; throws hearth::Error (with the log's tail)
  // when it exits or does not become healthy in time.
  explicit StartedServer(const ServeSpec& spec);
  ~StartedServer();
  const std::string& base_url() const { return base_url_; }

 private:
  std::string base_url_;
  std::unique_ptr<BackgroundProcess> process_;
};

// Replaces {name} placeholders in each argument (e.g. {port}, {model}, {model_path}, {metrics_log}).
std::vector<std::string> substitute(const std::vector<std::string>& args,
                                    const std::vector<std::pair<std::string, std::string>>& values);

}  // namespace hearth::bench
