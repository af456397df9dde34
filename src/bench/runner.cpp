#include "bench/runner.h"

#include <unistd.h>

#include <ctime>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include "bench/artifact.h"
#include "bench/claude_agent.h"
#include "bench/evaluation.h"
#include "bench/server.h"
#include "bench/task_catalog.h"
#include "bench/transcript.h"
#include "bench/workspace.h"
#include "util/error.h"

namespace hearth::bench {
namespace fs = std::filesystem;

namespace {

std::string utc_now_iso() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// A model name as a folder name: letters, digits, '.', '-', '_' kept, anything else '_'.
std::string path_safe(const std::string& name) {
  std::string out;
  for (char c : name) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_') ? c : '_';
  return out.empty() ? "_" : out;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read '" + path.string() + "'", ErrorKind::io);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void say(const RunnerConfig& config, const std::string& line) {
  if (config.progress) config.progress(line);
}

fs::path make_work_root(const RunnerConfig& config) {
  if (!config.work_root.empty()) {
    fs::create_directories(config.work_root);
    return config.work_root;
  }
  std::string pattern = (fs::temp_directory_path() / "hearth-bench-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) throw Error("cannot create a temporary folder for working copies", ErrorKind::io);
  return pattern;
}

// Whether `path` is strictly below `dir` (both canonical).
bool inside(const fs::path& path, const fs::path& dir) {
  auto rel = path.lexically_relative(dir);
  return !rel.empty() && rel != "." && *rel.begin() != "..";
}

// What the agent must not reach: the tasks (held-out tests, solutions), the scoring scripts and the
// toolchain they use, and the results of other runs. A folder that holds what the agent needs (its
// scratch folder, the agent program) is left visible, and so is one inside another hidden folder.
Containment agent_containment(const RunnerConfig& config, const fs::path& scratch) {
  Containment c;
  c.enabled = containment_available();
  if (!c.enabled) return c;
  std::vector<fs::path> needed{fs::weakly_canonical(scratch)};
  if (!config.agent_command.empty() && config.agent_command[0].find('/') != std::string::npos) {
    needed.push_back(fs::weakly_canonical(config.agent_command[0]));
  }
  std::vector<fs::path> candidates;
  for (const fs::path& p : {config.tasks_dir, config.evaluate_script.parent_path(), config.toolchain_dir, config.out_dir}) {
    if (!p.empty() && fs::is_directory(p)) candidates.push_back(fs::weakly_canonical(p));
  }
  for (const fs::path& dir : candidates) {
    bool keep = true;
    for (const fs::path& n : needed) keep = keep && !inside(n, dir) && n != dir;
    for (const fs::path& other : candidates) keep = keep && !inside(dir, other);
    for (const fs::path& h : c.hidden) keep = keep && h != dir;
    if (keep) c.hidden.push_back(dir);
  }
  return c;
}

struct RunContext {
  const RunnerConfig& config;
  const BenchTask& task;
  const ModelSpec& model;
  const std::string& artifact;
  const std::string& base_url;
  const fs::path& metrics_log;
  int repeat;
  fs::path work_root;
};

// The agent's part of one run, then its scoring. Failures of the run itself end up in record.error.
RunRecord run_once(const RunContext& ctx) {
  const RunnerConfig& config = ctx.config;
  RunRecord record;
  record.task = ctx.task.id;
  record.task_kind = ctx.task.kind;
  record.model = ctx.model.name;
  record.artifact = ctx.artifact;
  record.repeat = ctx.repeat;
  record.started_at = utc_now_iso();
  const std::string run_name = path_safe(ctx.model.name) + "/" + ctx.task.id + "/r" + std::to_string(ctx.repeat);
  const fs::path run_dir = config.out_dir / "runs" / run_name;
  const fs::path scratch = ctx.work_root / (path_safe(ctx.model.name) + "-" + ctx.task.id + "-r" + std::to_string(ctx.repeat));
  fs::remove_all(run_dir);
  fs::remove_all(scratch);
  fs::create_directories(run_dir);
  record.run_dir = run_dir.string();

  const fs::path working_copy = scratch / "work";
  prepare_working_copy(ctx.task, working_copy, config.toolchain_dir);

  AgentSpec agent{config.agent_command, ctx.base_url, config.api_key, ctx.model.name, config.run_time_limit,
                  config.max_turns};
  AgentRunPaths paths{working_copy, run_dir / "transcript.jsonl", run_dir / "agent.stderr.log", scratch / "claude-config",
                      agent_containment(config, scratch)};
  const std::string prompt = agent_prompt(read_file(ctx.task.statement_path()));
  ProcessResult agent_result = run_agent(agent, prompt, paths);
  record.wall_s = agent_result.wall_s;
  record.timed_out = agent_result.timed_out;
  record.agent_exit_code = agent_result.exit_code;

  TranscriptSummary transcript = summarize_transcript(paths.transcript);
  record.turns = transcript.turns;
  record.tool_calls = transcript.tool_calls;
  record.tools = transcript.tools;
  record.session_id = transcript.session_id;
  if (record.timed_out) {
    record.error = "agent stopped at the time limit of " + std::to_string(config.run_time_limit.count()) + " s";
  } else if (!transcript.finished) {
    record.error = "agent exited with code " + std::to_string(agent_result.exit_code) + " without a result line";
  } else if (transcript.is_error) {
    record.error = "agent reported an error (" + transcript.result_subtype + ")";
  }

  WorkingCopyDiff diff = diff_working_copy(working_copy);
  std::ofstream(run_dir / "diff.patch", std::ios::binary) << diff.patch;
  record.changed_files = diff.files;
  record.diff_truncated = diff.patch.size() > config.diff_limit_bytes;
  record.diff = record.diff_truncated ? diff.patch.substr(0, config.diff_limit_bytes) : diff.patch;

  // evaluate.sh scores the agent's src/ in a fresh copy of the task, in a folder of its own choosing, so
  // that nothing the evaluation adds (held-out tests) ever exists where the agent worked.
  try {
    record.evaluation =
        evaluate(ctx.task, EvaluationPaths{config.evaluate_script, working_copy, run_dir / "evaluation"});
  } catch (const Error& e) {
    record.error += std::string(record.error.empty() ? "" : "; ") + "evaluation failed: " + e.what();
  }

  if (!ctx.metrics_log.empty()) record.metrics = read_session_metrics(ctx.metrics_log, record.session_id);
  if (!config.keep_work) fs::remove_all(scratch);
  return record;
}

}  // namespace

std::vector<RunRecord> run_matrix(const RunnerConfig& config) {
  if (config.models.empty()) throw Error("no models to benchmark (--model)", ErrorKind::invalid_request);
  if (config.repeats < 1) throw Error("repeats must be at least 1", ErrorKind::invalid_request);
  if (config.agent_command.empty()) throw Error("no agent command", ErrorKind::invalid_request);
  if (config.server.url.empty() && config.server.serve_argv.empty()) {
    throw Error("give a server URL or a command that starts hearth serve", ErrorKind::invalid_request);
  }
  const std::vector<BenchTask> tasks = load_tasks(config.tasks_dir, config.task_ids);
  fs::create_directories(config.out_dir);
  const fs::path work_root = make_work_root(config);
  if (!containment_available()) {
    say(config, "note: no PID/mount namespaces here (needs root): agents run unconfined, the benchmark folder "
                "stays visible to them, and only their process group is stopped after each run");
  }
  std::ofstream results(config.out_dir / "results.jsonl", std::ios::app);
  if (!results) throw Error("cannot write '" + (config.out_dir / "results.jsonl").string() + "'", ErrorKind::io);

  std::vector<RunRecord> records;
  for (const ModelSpec& model : config.models) {
    std::string artifact = model.artifact;
    if (artifact.empty() && !model.path.empty()) {
      say(config, "model " + model.name + ": identifying " + model.path.string());
      artifact = artifact_identity(model.path);
    }
    std::string base_url = config.server.url;
    fs::path metrics_log = config.server.metrics_log;
    std::unique_ptr<StartedServer> server;
    if (base_url.empty()) {
      const int port = pick_free_port();
      base_url = "http://127.0.0.1:" + std::to_string(port);
      if (metrics_log.empty()) metrics_log = config.out_dir / ("metrics-" + path_safe(model.name) + ".jsonl");
      ServeSpec serve;
      serve.argv = substitute(config.server.serve_argv, {{"port", std::to_string(port)},
                                                         {"model", model.name},
                                                         {"model_path", model.path.string()},
                                                         {"metrics_log", metrics_log.string()}});
      serve.base_url = base_url;
      serve.log_path = config.out_dir / ("server-" + path_safe(model.name) + ".log");
      serve.startup_timeout = config.server.startup_timeout;
      say(config, "model " + model.name + ": starting the server at " + base_url);
      server = std::make_unique<StartedServer>(serve);
    } else if (!server_healthy(base_url)) {
      throw Error("the hearth server at " + base_url + " does not answer GET /health", ErrorKind::io);
    }
    for (int repeat = 1; repeat <= config.repeats; ++repeat) {
      for (const BenchTask& task : tasks) {
        say(config, "run " + model.name + " × " + task.id + " #" + std::to_string(repeat));
        RunRecord record = run_once(RunContext{config, task, model, artifact, base_url, metrics_log, repeat, work_root});
        results << to_json_line(record) << '\n';
        results.flush();
        say(config, "  public " + std::string(record.evaluation.public_tests.passed ? "pass" : "FAIL") +
                        ", held-out " + (record.evaluation.heldout.passed ? "pass" : "FAIL") + ", " +
                        std::to_string(static_cast<int>(record.wall_s)) + " s, " + std::to_string(record.turns) +
                        " turns" + (record.error.empty() ? "" : " (" + record.error + ")"));
        records.push_back(std::move(record));
      }
    }
  }
  if (!config.keep_work && config.work_root.empty()) fs::remove_all(work_root);
  return records;
}

}  // namespace hearth::bench
