#include "bench/containment.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace hearth::bench {
namespace {

int exit_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

// PID 1 of the namespace: starts the program, reaps every orphan that lands on it, and exits with the
// program's status as soon as the program itself exits (the kernel then kills whatever is left).
[[noreturn]] void namespace_init(const char* program, char* const argv[], char* const envp[], int status_fd) {
  pid_t child = ::fork();
  if (child < 0) ::_exit(127);
  if (child == 0) {
    ::execve(program, argv, envp);
    int e = errno;
    (void)!::write(status_fd, &e, sizeof e);
    ::_exit(127);
  }
  ::close(status_fd);  // the caller's read of it ends when the program has exec'd (close-on-exec)
  for (;;) {
    int status = 0;
    pid_t done = ::waitpid(-1, &status, 0);
    if (done == child) ::_exit(exit_status(status));
    if (done < 0 && errno != EINTR) ::_exit(1);
  }
}

}  // namespace

bool containment_available() {
  static const bool available = [] {
    pid_t probe = ::fork();
    if (probe < 0) return false;
    if (probe == 0) ::_exit(::unshare(CLONE_NEWPID | CLONE_NEWNS) == 0 ? 0 : 1);
    int status = 0;
    while (::waitpid(probe, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }();
  return available;
}

int exec_contained(const char* program, char* const argv[], char* const envp[],
                   const std::vector<std::string>& hidden, int status_fd) {
  if (::unshare(CLONE_NEWPID | CLONE_NEWNS) != 0) return -1;
  // Private mounts: what is covered here stays visible to everyone else.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return -1;
  for (const std::string& dir : hidden) {
    if (::mount("hearth-hidden", dir.c_str(), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                "size=4k,mode=0555") != 0) {
      return -1;
    }
  }
  pid_t init = ::fork();  // the first child after unshare(CLONE_NEWPID) is PID 1 of the new namespace
  if (init < 0) return -1;
  if (init == 0) namespace_init(program, argv, envp, status_fd);
  ::close(status_fd);
  // Here, outside the namespace: wait for PID 1 and pass its status on. If we are killed first, PID 1
  // is still in our process group, which the caller kills too.
  for (;;) {
    int status = 0;
    pid_t done = ::waitpid(init, &status, 0);
    if (done == init) ::_exit(exit_status(status));
    if (done < 0 && errno != EINTR) ::_exit(1);
  }
}

}  // namespace hearth::bench
