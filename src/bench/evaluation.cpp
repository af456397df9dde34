#include "bench/evaluation.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "bench/subprocess.h"
#include "util/error.h"

namespace hearth::bench {
namespace fs = std::filesystem;

namespace {

SuiteResult parse_suite(const nlohmann::json& j, const char* name) {
  if (!j.contains(name) || !j[name].is_object()) {
    throw Error(std::string("evaluation output has no \"") + name + "\" object", ErrorKind::invalid_request);
  }
  const auto& s = j[name];
  SuiteResult r;
  r.passed = s.at("passed").get<bool>();
  r.pass = s.at("pass").get<int>();
  r.fail = s.at("fail").get<int>();
  return r;
}

}  // namespace

Evaluation parse_evaluation(const std::string& json_line) {
  try {
    auto j = nlohmann::json::parse(json_line);
    return Evaluation{parse_suite(j, "public"), parse_suite(j, "heldout")};
  } catch (const nlohmann::json::exception& e) {
    throw Error("cannot read the evaluation result '" + json_line + "': " + e.what(), ErrorKind::invalid_request);
  }
}

Evaluation evaluate(const BenchTask& task, const EvaluationPaths& paths) {
  fs::create_directories(paths.log_dir);
  ProcessSpec spec;
  spec.argv = {"bash", paths.script.string(), task.dir.string(), paths.working_copy.string(), paths.log_dir.string()};
  spec.env = current_environment();
  spec.stdout_path = paths.log_dir / "evaluation.json";
  spec.stderr_path = paths.log_dir / "evaluation.err";
  spec.timeout = std::chrono::minutes(5);
  ProcessResult r = run_process(spec);
  std::ifstream in(spec.stdout_path);
  std::string line;
  std::getline(in, line);
  if (r.exit_code != 0 || line.empty()) {
    std::ifstream err(spec.stderr_path);
    std::string message(std::istreambuf_iterator<char>(err), {});
    throw Error("evaluation of " + paths.working_copy.string() + " failed (exit " + std::to_string(r.exit_code) +
                    "): " + message,
                ErrorKind::io);
  }
  return parse_evaluation(line);
}

}  // namespace hearth::bench
