#pragma once
// One benchmark run (model × task × repeat) as one JSON line of RESULTS.jsonl, written by `hearth bench
// run` and read by `hearth bench report`.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bench/evaluation.h"
#include "bench/session_metrics.h"

namespace hearth::bench {

struct RunRecord {
  std::string task;
  std::string task_kind;
  std::string model;
  std::string artifact;         // see artifact.h
  int repeat = 1;               // 1-based
  Evaluation evaluation;        // public and held-out results
  std::string error;            // why the run could not be scored, if it could not ("" otherwise)
  double wall_s = 0;            // the agent's wall time
  bool timed_out = false;       // the agent hit the per-run limit
  int agent_exit_code = 0;
  int turns = 0;
  int tool_calls = 0;
  std::map<std::string, int> tools;
  std::string session_id;
  std::optional<SessionMetrics> metrics;  // from hearth's metrics log, when it has the session
  std::vector<std::string> changed_files;  // the diff's files (lock files left out)
  std::string diff;                        // the patch, cut to a limit (full copy in the run folder)
  bool diff_truncated = false;
  std::string run_dir;                     // transcript, logs, full diff
  std::string started_at;                  // UTC, ISO 8601
};

std::string to_json_line(const RunRecord& record);
// Throws hearth::Error naming what is wrong with the line.
RunRecord parse_run_record(const std::string& json_line);

}  // namespace hearth::bench
