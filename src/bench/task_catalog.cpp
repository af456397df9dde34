#include "bench/task_catalog.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "util/error.h"

namespace hearth::bench {
namespace fs = std::filesystem;

namespace {

BenchTask load_task(const fs::path& dir) {
  BenchTask task;
  task.id = dir.filename().string();
  task.dir = dir;
  std::ifstream in(dir / "task.json");
  if (!in) throw Error("benchmark task '" + dir.string() + "' has no task.json", ErrorKind::not_found);
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error("benchmark task '" + dir.string() + "': task.json is not JSON: " + e.what(), ErrorKind::invalid_request);
  }
  if (!meta.is_object() || !meta.value("title", nlohmann::json()).is_string()) {
    throw Error("benchmark task '" + dir.string() + "': task.json needs a string \"title\"", ErrorKind::invalid_request);
  }
  task.title = meta["title"].get<std::string>();
  task.kind = meta.value("kind", "");
  for (const fs::path& needed : {task.repo_dir(), task.statement_path(), dir / "heldout"}) {
    if (!fs::exists(needed)) {
      throw Error("benchmark task '" + task.id + "' is missing " + needed.string(), ErrorKind::not_found);
    }
  }
  return task;
}

}  // namespace

std::vector<BenchTask> load_tasks(const fs::path& tasks_dir, const std::vector<std::string>& only) {
  if (!fs::is_directory(tasks_dir)) {
    throw Error("benchmark tasks folder '" + tasks_dir.string() + "' does not exist", ErrorKind::not_found);
  }
  std::vector<BenchTask> tasks;
  if (!only.empty()) {
    for (const auto& id : only) {
      fs::path dir = tasks_dir / id;
      if (id.empty() || id.find('/') != std::string::npos || !fs::is_directory(dir)) {
        throw Error("unknown benchmark task '" + id + "' (no folder " + dir.string() + ")", ErrorKind::not_found);
      }
      tasks.push_back(load_task(dir));
    }
    return tasks;
  }
  for (const auto& entry : fs::directory_iterator(tasks_dir)) {
    if (entry.is_directory() && fs::exists(entry.path() / "task.json")) tasks.push_back(load_task(entry.path()));
  }
  std::sort(tasks.begin(), tasks.end(), [](const BenchTask& a, const BenchTask& b) { return a.id < b.id; });
  if (tasks.empty()) throw Error("no benchmark tasks in '" + tasks_dir.string() + "'", ErrorKind::not_found);
  return tasks;
}

}  // namespace hearth::bench
