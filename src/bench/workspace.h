#pragma once
// The working copies of one benchmark run: the agent's (a fresh git repository made from the task's repo/,
// without held-out tests) and the evaluation copy made from it after the agent stops.
#include <filesystem>
#include <string>
#include <vector>

#include "bench/task_catalog.h"

namespace hearth::bench {

// Copies task.repo_dir() to `dest` (which must not exist), copies `toolchain` (bench/node_modules) to
// dest/node_modules, adds the toolchain's packages (from the package.json next to it) to the copy's
// devDependencies so that `npm install` keeps them, and commits everything as the starting point.
// Throws hearth::Error.
void prepare_working_copy(const BenchTask& task, const std::filesystem::path& dest,
                          const std::filesystem::path& toolchain);

// The agent's changes against the starting commit, as a git patch (new files included), leaving out
// lock files and node_modules: their churn is noise, not the agent's work.
struct WorkingCopyDiff {
  std::string patch;
  std::vector<std::string> files;  // paths the patch touches
};
WorkingCopyDiff diff_working_copy(const std::filesystem::path& working_copy);

// Paths that diffs leave out (lock files of npm, yarn, pnpm and bun).
const std::vector<std::string>& lock_file_names();

}  // namespace hearth::bench
