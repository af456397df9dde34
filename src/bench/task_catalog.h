#pragma once
// The benchmark's tasks as found on disk: bench/tasks/<id>/ with task.json, TASK.md (inside repo/),
// repo/ (the agent's starting working copy), heldout/ and solution/ (see bench/README.md).
#include <filesystem>
#include <string>
#include <vector>

namespace hearth::bench {

struct BenchTask {
  std::string id;     // the folder name, e.g. "04-rate-limiter"
  std::string title;  // from task.json
  std::string kind;   // "bug fix", "feature", ...
  std::filesystem::path dir;

  std::filesystem::path repo_dir() const { return dir / "repo"; }
  std::filesystem::path statement_path() const { return dir / "repo" / "TASK.md"; }
};

// Every task under tasks_dir, sorted by id; with `only` non-empty, just those ids (in that order), each
// of which must exist. Throws hearth::Error naming the folder or id at fault.
std::vector<BenchTask> load_tasks(const std::filesystem::path& tasks_dir, const std::vector<std::string>& only = {});

}  // namespace hearth::bench
