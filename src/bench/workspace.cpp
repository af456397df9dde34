#include "bench/workspace.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bench/subprocess.h"
#include "util/error.h"

namespace hearth::bench {
namespace fs = std::filesystem;

namespace {

std::string git(const fs::path& repo, std::vector<std::string> args) {
  // A fixed identity and no user/system config, so that runs are the same on every machine.
  std::vector<std::string> argv{"git", "-c", "user.name=hearth bench", "-c", "user.email=bench@hearth.invalid",
                                "-c", "commit.gpgsign=false", "-c", "core.autocrlf=false"};
  argv.insert(argv.end(), args.begin(), args.end());
  return capture_output(argv, repo);
}

std::vector<std::string> excluded_pathspecs() {
  std::vector<std::string> specs{".", ":(exclude)node_modules"};
  for (const auto& name : lock_file_names()) specs.push_back(":(glob,exclude)**/" + name);
  return specs;
}

// A private copy of the toolchain (nothing the agent does to it reaches the benchmark's), declared as the
// project's devDependencies so that `npm install` in the working copy keeps it instead of pruning it, and
// an .npmrc that keeps npm offline: the GPU machines reach no registry, and without it `npm install`
// spends a minute retrying one.
void install_toolchain(const fs::path& toolchain, const fs::path& dest) {
  fs::copy(toolchain, dest / "node_modules", fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  std::ofstream(dest / ".npmrc", std::ios::app) << "offline=true\nupdate-notifier=false\naudit=false\nfund=false\n";
  const fs::path manifest = toolchain.parent_path() / "package.json";
  if (!fs::exists(manifest)) return;
  auto read_json = [](const fs::path& p) {
    std::ifstream in(p);
    if (!in) throw Error("cannot read '" + p.string() + "'", ErrorKind::io);
    return nlohmann::ordered_json::parse(in);
  };
  nlohmann::ordered_json toolchain_manifest = read_json(manifest);
  nlohmann::ordered_json package = read_json(dest / "package.json");
  const auto packages = toolchain_manifest.value("devDependencies", nlohmann::ordered_json::object());
  for (const auto& [name, version] : packages.items()) {
    package["devDependencies"][name] = version;
  }
  std::ofstream(dest / "package.json") << package.dump(2) << '\n';
}

}  // namespace

const std::vector<std::string>& lock_file_names() {
  static const std::vector<std::string> names{"package-lock.json", "npm-shrinkwrap.json", "yarn.lock",
                                              "pnpm-lock.yaml", "bun.lockb", "bun.lock"};
  return names;
}

void prepare_working_copy(const BenchTask& task, const fs::path& dest, const fs::path& toolchain) {
  if (fs::exists(dest)) throw Error("working copy '" + dest.string() + "' already exists", ErrorKind::io);
  if (!fs::is_directory(toolchain / "tsx")) {
    throw Error("the benchmark's TypeScript toolchain is missing ('" + toolchain.string() +
                    "/tsx'): run scripts/install-deps.sh",
                ErrorKind::not_found);
  }
  fs::create_directories(dest.parent_path());
  fs::copy(task.repo_dir(), dest, fs::copy_options::recursive);
  install_toolchain(toolchain, dest);
  git(dest, {"init", "-q", "-b", "main"});
  // node_modules is ignored by the task's .gitignore; add it to the repository's own exclude list too,
  // in case an agent rewrites .gitignore.
  {
    std::ofstream exclude(dest / ".git" / "info" / "exclude", std::ios::app);
    exclude << "node_modules\n";
  }
  git(dest, {"add", "-A"});
  git(dest, {"commit", "-q", "-m", "task " + task.id});
}

WorkingCopyDiff diff_working_copy(const fs::path& working_copy) {
  // Stage everything (new files too) in a throwaway index so that the agent's own index is left alone.
  fs::path index = working_copy / ".git" / "hearth-bench-index";
  std::vector<std::string> env_index{"env", "GIT_INDEX_FILE=" + index.string()};
  auto with_index = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = env_index;
    argv.insert(argv.end(), {"git", "-c", "core.autocrlf=false"});
    argv.insert(argv.end(), args.begin(), args.end());
    return capture_output(argv, working_copy);
  };
  fs::remove(index);
  with_index({"read-tree", "HEAD"});
  with_index({"add", "-A"});
  // The first commit is the task as given, even if the agent committed on top of it.
  std::string base = git(working_copy, {"rev-list", "--max-parents=0", "HEAD"});
  base = base.substr(0, base.find('\n'));
  std::vector<std::string> diff_args{"diff", "--cached", "--binary", base, "--"};
  std::vector<std::string> name_args{"diff", "--cached", "--name-only", base, "--"};
  for (const auto& spec : excluded_pathspecs()) {
    diff_args.push_back(spec);
    name_args.push_back(spec);
  }
  WorkingCopyDiff diff;
  diff.patch = with_index(diff_args);
  std::istringstream names(with_index(name_args));
  for (std::string line; std::getline(names, line);) {
    if (!line.empty()) diff.files.push_back(line);
  }
  fs::remove(index);
  return diff;
}

}  // namespace hearth::bench
