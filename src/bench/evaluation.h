#pragma once
// Scores the agent's work with bench/evaluate.sh: the task's public tests and its held-out tests, run over
// a fresh copy of the task with the agent's src/ laid in (the working copy itself is only read).
#include <filesystem>
#include <string>

#include "bench/task_catalog.h"

namespace hearth::bench {

struct SuiteResult {
  bool passed = false;
  int pass = 0;  // tests passed, as node's test runner counts them
  int fail = 0;  // expected tests that did not pass, plus any other failed test
};

struct Evaluation {
  SuiteResult public_tests;
  SuiteResult heldout;
};

struct EvaluationPaths {
  std::filesystem::path script;       // bench/evaluate.sh
  std::filesystem::path working_copy; // the agent's copy: only its src/ is scored, in a fresh copy of the task
  std::filesystem::path log_dir;      // public.log and heldout.log go here
};

// Throws hearth::Error when the script cannot score (missing toolchain, bad output).
Evaluation evaluate(const BenchTask& task, const EvaluationPaths& paths);

// Parses evaluate.sh's output line; exposed for tests.
Evaluation parse_evaluation(const std::string& json_line);

}  // namespace hearth::bench
