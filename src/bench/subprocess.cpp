#include "bench/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "util/error.h"

extern char** environ;

namespace hearth::bench {
namespace {

using Clock = std::chrono::steady_clock;

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Everything the child needs is prepared before fork(): only async-signal-safe calls happen after it.
struct PreparedExec {
  std::vector<std::string> strings;
  std::vector<char*> argv;
  std::vector<char*> envp;
};

PreparedExec prepare(const ProcessSpec& spec) {
  if (spec.argv.empty()) throw Error("run_process: empty command line", ErrorKind::invalid_request);
  PreparedExec p;
  p.strings.reserve(spec.argv.size() + spec.env.size());
  for (const auto& a : spec.argv) p.strings.push_back(a);
  for (const auto& [k, v] : spec.env) p.strings.push_back(k + "=" + v);
  for (size_t i = 0; i < spec.argv.size(); ++i) p.argv.push_back(p.strings[i].data());
  p.argv.push_back(nullptr);
  for (size_t i = spec.argv.size(); i < p.strings.size(); ++i) p.envp.push_back(p.strings[i].data());
  p.envp.push_back(nullptr);
  return p;
}

int open_output(const std::filesystem::path& path) {
  if (path.empty()) return ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

// The PATH lookup of execvpe uses the child's PATH; resolve it here so that the child's environment,
// not ours, decides which program runs.
std::string resolve_program(const std::string& name, const std::map<std::string, std::string>& env) {
  if (name.find('/') != std::string::npos) return name;
  auto it = env.find("PATH");
  std::string path = it == env.end() ? "/usr/local/bin:/usr/bin:/bin" : it->second;
  std::stringstream dirs(path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  throw Error("cannot find program '" + name + "' in PATH", ErrorKind::io);
}

int spawn(const ProcessSpec& spec) {
  const std::string program = resolve_program(spec.argv[0], spec.env);
  PreparedExec p = prepare(spec);
  std::vector<std::string> hidden;
  for (const auto& dir : spec.containment.hidden) hidden.push_back(dir.string());
  int out = open_output(spec.stdout_path);
  int err = spec.stderr_path == spec.stdout_path && !spec.stdout_path.empty() ? ::dup(out)
                                                                              : open_output(spec.stderr_path);
  if (out < 0 || err < 0) {
    if (out >= 0) ::close(out);
    if (err >= 0) ::close(err);
    throw Error("cannot open output file for '" + spec.argv[0] + "': " + std::strerror(errno), ErrorKind::io);
  }
  // The child reports an exec failure through this pipe (closed on a successful exec).
  int status_pipe[2];
  if (::pipe2(status_pipe, O_CLOEXEC) != 0) throw Error("pipe2 failed", ErrorKind::io);
  const char* cwd = spec.cwd.empty() ? nullptr : spec.cwd.c_str();
  pid_t pid = ::fork();
  if (pid < 0) throw Error(std::string("fork failed: ") + std::strerror(errno), ErrorKind::io);
  if (pid == 0) {
    ::setpgid(0, 0);
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    if (cwd && ::chdir(cwd) != 0) {
      int e = errno;
      (void)!::write(status_pipe[1], &e, sizeof e);
      ::_exit(127);
    }
    if (spec.containment.enabled) {
      exec_contained(program.c_str(), p.argv.data(), p.envp.data(), hidden, status_pipe[1]);
    } else {
      ::execve(program.c_str(), p.argv.data(), p.envp.data());
    }
    int e = errno;
    (void)!::write(status_pipe[1], &e, sizeof e);
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also here, so that the group exists before we might signal it
  ::close(out);
  ::close(err);
  ::close(status_pipe[1]);
  int child_errno = 0;
  ssize_t n = ::read(status_pipe[0], &child_errno, sizeof child_errno);
  ::close(status_pipe[0]);
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    ::waitpid(pid, nullptr, 0);
    throw Error("cannot start '" + spec.argv[0] + "' in '" + spec.cwd.string() + "': " + std::strerror(child_errno),
                ErrorKind::io);
  }
  return pid;
}

// Waits for pid until the deadline; returns the exit code, or nothing when the deadline passed.
std::optional<int> wait_until(int pid, std::optional<Clock::time_point> deadline) {
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, deadline ? WNOHANG : 0);
    if (r == pid) return decode_status(status);
    if (r < 0 && errno != EINTR) return -1;
    if (deadline && Clock::now() >= *deadline) return std::nullopt;
    if (deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// SIGTERM to the whole group, SIGKILL after the grace period; returns the leader's exit code.
int terminate_group(int pid, std::chrono::milliseconds grace) {
  ::kill(-pid, SIGTERM);
  auto code = wait_until(pid, Clock::now() + grace);
  ::kill(-pid, SIGKILL);  // stragglers of the group, and the leader if it ignored SIGTERM
  if (!code) code = wait_until(pid, std::nullopt);
  return *code;
}

}  // namespace

ProcessResult run_process(const ProcessSpec& spec) {
  const auto start = Clock::now();
  int pid = spawn(spec);
  std::optional<Clock::time_point> deadline;
  if (spec.timeout) deadline = start + *spec.timeout;
  ProcessResult result;
  if (auto code = wait_until(pid, deadline)) {
    result.exit_code = *code;
    ::kill(-pid, SIGKILL);  // background children the program left behind
  } else {
    result.timed_out = true;
    result.exit_code = terminate_group(pid, std::chrono::seconds(5));
  }
  result.wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

BackgroundProcess::BackgroundProcess(const ProcessSpec& spec) : pid_(spawn(spec)) {}

BackgroundProcess::~BackgroundProcess() {
  if (pid_ > 0 && !exit_code_) stop();
}

bool BackgroundProcess::running() {
  if (exit_code_) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_code_ = decode_status(status);
    return false;
  }
  return true;
}

int BackgroundProcess::stop() {
  if (!exit_code_ && running()) exit_code_ = terminate_group(pid_, std::chrono::seconds(10));
  ::kill(-pid_, SIGKILL);
  return *exit_code_;
}

std::map<std::string, std::string> current_environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return env;
}

std::string capture_output(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                           std::chrono::milliseconds timeout) {
  auto dir = std::filesystem::temp_directory_path();
  std::string stem = "hearth-capture-" + std::to_string(::getpid()) + "-" +
                     std::to_string(Clock::now().time_since_epoch().count());
  auto out = dir / (stem + ".out");
  auto err = dir / (stem + ".err");
  ProcessSpec spec{argv, cwd, current_environment(), out, err, timeout, {}};
  ProcessResult r = run_process(spec);
  auto slurp = [](const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  std::string stdout_text = slurp(out);
  std::string stderr_text = slurp(err);
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  if (r.exit_code != 0 || r.timed_out) {
    std::string cmd;
    for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    throw Error("'" + cmd + "' failed" + (r.timed_out ? " (timed out)" : " with exit code " + std::to_string(r.exit_code)) +
                    ": " + stderr_text,
                ErrorKind::io);
  }
  return stdout_text;
}

}  // namespace hearth::bench
