#pragma once
// Runs a child process with a clean, explicit environment, a working directory, output redirected to
// files and a wall-clock limit. The child leads its own process group so that on timeout everything it
// started (an agent's shells, test runners) is stopped with it.
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bench/containment.h"

namespace hearth::bench {

struct ProcessSpec {
  std::vector<std::string> argv;               // argv[0] is looked up in PATH when it has no slash
  std::filesystem::path cwd;                   // empty: the caller's
  std::map<std::string, std::string> env;      // the child's whole environment
  std::filesystem::path stdout_path;           // empty: /dev/null
  std::filesystem::path stderr_path;           // empty: /dev/null; may equal stdout_path
  std::optional<std::chrono::milliseconds> timeout;
  Containment containment;                     // enabled: own PID and mount namespaces (containment.h)
};

struct ProcessResult {
  int exit_code = -1;      // 128 + signal number when the child was killed by a signal
  bool timed_out = false;  // killed by us at the time limit
  double wall_s = 0;
};

// Throws hearth::Error (io) when the program cannot be started.
ProcessResult run_process(const ProcessSpec& spec);

// A started child that runs until stop() (a server). The destructor stops it.
class BackgroundProcess {
 public:
  explicit BackgroundProcess(const ProcessSpec& spec);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  bool running();                // false once it has exited (its status is then kept)
  int stop();                    // SIGTERM, then SIGKILL after a grace period; returns the exit code
  int pid() const { return pid_; }

 private:
  int pid_ = -1;
  std::optional<int> exit_code_;
};

// The current process's environment as a map (the starting point for a child's).
std::map<std::string, std::string> current_environment();

// Runs argv in cwd and returns its stdout; throws hearth::Error (with stderr) on a non-zero exit.
std::string capture_output(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                           std::chrono::milliseconds timeout = std::chrono::minutes(2));

}  // namespace hearth::bench
