#pragma once
// `hearth bench run`: every model × task × repeat, each run in a fresh git working copy driven by
// Claude Code against a hearth server, scored in a separate evaluation copy, one JSON line per run.
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "bench/run_record.h"

namespace hearth::bench {

struct ModelSpec {
  std::string name;                  // the name Claude Code asks for (--model)
  std::filesystem::path path;        // model directory or scripted-model file; may be empty
  std::string artifact;              // identity override; empty: computed from path (artifact.h)
};

struct ServerChoice {
  // Either a running server...
  std::string url;                   // e.g. http://127.0.0.1:8080
  // ...or the command that starts one per model, with placeholders {port}, {model}, {model_path},
  // {metrics_log} (e.g. {"/path/hearth", "serve", "--port", "{port}", "--model", "{model_path}"}).
  std::vector<std::string> serve_argv;
  std::chrono::seconds startup_timeout{600};
  std::filesystem::path metrics_log; // the log to read per session; default (started servers): out_dir/metrics-<model>.jsonl
};

struct RunnerConfig {
  std::filesystem::path tasks_dir;          // bench/tasks
  std::filesystem::path toolchain_dir;      // bench/node_modules
  std::filesystem::path evaluate_script;    // bench/evaluate.sh
  std::vector<std::string> task_ids;        // empty: all
  std::vector<ModelSpec> models;
  int repeats = 1;
  std::filesystem::path out_dir;            // results.jsonl, runs/<model>/<task>/r<k>/
  std::filesystem::path work_root;          // temporary working copies; default: a new folder in TMPDIR
  bool keep_work = false;                   // keep the working copies (evaluate.sh removes its own copy)
  ServerChoice server;
  std::vector<std::string> agent_command;   // the Claude Code CLI
  std::string api_key = "hearth-bench";
  std::chrono::seconds run_time_limit{1800};
  int max_turns = 0;
  size_t diff_limit_bytes = 64 * 1024;      // longer diffs are cut in the JSON line (diff.patch keeps all)
  std::function<void(const std::string&)> progress;  // one line per event; may be empty
};

// Runs the matrix, appending one line per run to out_dir/results.jsonl; returns the records. Throws
// hearth::Error for set-up problems (no tasks, no toolchain, server not starting); a run that fails on
// its own (agent crash, time limit) is recorded, not thrown.
std::vector<RunRecord> run_matrix(const RunnerConfig& config);

}  // namespace hearth::bench
