#pragma once
// Confines a child process and everything it starts (an agent run): a PID namespace of its own, so that
// every process of the run, a `setsid` daemon included, is killed when the run's program exits or is
// stopped; and a mount namespace where the given folders (the benchmark's tasks and scoring scripts,
// the results) are covered by an empty read-only file system. Needs CAP_SYS_ADMIN (root); where the
// kernel refuses, the child runs unconfined and only its process group is stopped (see subprocess.h).
#include <filesystem>
#include <string>
#include <vector>

namespace hearth::bench {

struct Containment {
  bool enabled = false;
  std::vector<std::filesystem::path> hidden;  // folders the child must not see (absolute)
};

// Whether this process may create PID and mount namespaces (probed once, by a throwaway child).
bool containment_available();

// Called in the forked child only, after its redirections: sets up the namespaces, then runs `program`
// as PID 1's only child and exits with its status; PID 1 exiting kills the rest of the namespace. An
// exec failure's errno goes to status_fd (close-on-exec), which the other processes close. Uses only
// async-signal-safe calls. Returns (errno set) only when the namespaces cannot be made.
int exec_contained(const char* program, char* const argv[], char* const envp[],
                   const std::vector<std::string>& hidden, int status_fd);

}  // namespace hearth::bench
