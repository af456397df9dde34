// The runner end to end with stand-ins: a fake agent (fake-agent.sh) instead of Claude Code and a tiny
// Python HTTP server instead of hearth serve; the tasks, working copies and evaluation are the real ones.
#include "bench/runner.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>

#include "bench/containment.h"
#include "bench/summary.h"
#include "util/error.h"

namespace hearth::bench {
namespace {
namespace fs = std::filesystem;

// Answers 200 to every GET: enough for the runner's /health wait.
const char* kHealthServer =
    "import http.server, sys\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        self.send_response(200); self.end_headers(); self.wfile.write(b'ok')\n"
    "    def log_message(self, *a): pass\n"
    "http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()\n";

class BenchRunner : public ::testing::Test {
 protected:
  void SetUp() override {
    out_ = fs::temp_directory_path() / ("hearth-bench-runner-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(out_);
    // The fake agent reads the answers from a copy: the runner hides bench/ from agents where it can.
    answers_ = fs::temp_directory_path() / ("hearth-bench-answers-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(answers_);
    fs::copy(HEARTH_BENCH_DIR "/tasks", answers_, fs::copy_options::recursive);
    ::setenv("HEARTH_FAKE_AGENT_TASKS", answers_.c_str(), 1);
    // What the runner must keep away from the agent.
    ::setenv("ANTHROPIC_AUTH_TOKEN", "caller-secret", 1);
    ::setenv("CLAUDE_CODE_SOMETHING", "caller-setting", 1);
    config_.tasks_dir = HEARTH_BENCH_DIR "/tasks";
    config_.toolchain_dir = HEARTH_BENCH_DIR "/node_modules";
    config_.evaluate_script = HEARTH_BENCH_DIR "/evaluate.sh";
    config_.task_ids = {"04-rate-limiter"};
    config_.out_dir = out_;
    config_.work_root = out_ / "work";
    config_.keep_work = true;
    config_.server.serve_argv = {"python3", "-c", kHealthServer, "{port}"};
    config_.server.startup_timeout = std::chrono::seconds(30);
    config_.agent_command = {HEARTH_FAKE_AGENT};
  }
  void TearDown() override {
    ::unsetenv("ANTHROPIC_AUTH_TOKEN");
    ::unsetenv("CLAUDE_CODE_SOMETHING");
    fs::remove_all(out_);
    fs::remove_all(answers_);
  }
  fs::path out_;
  fs::path answers_;
  RunnerConfig config_;
};

TEST_F(BenchRunner, GoodAndWrongEditsAreScoredByHeldoutTestsWithMetricsAndArtifact) {
  const fs::path metrics = out_ / "metrics-in.jsonl";
  fs::create_directories(out_);
  std::ofstream(metrics) << R"({"session_id":"fake-good-04-rate-limiter","cache_hit":true,"cached_tokens":900,"prefilled_tokens":100,"decode_tok_s":42})"
                         << "\n";
  config_.server.metrics_log = metrics;
  const fs::path script = out_ / "script.json";
  std::ofstream(script) << "{}";
  config_.models = {{"good", script, ""}, {"wrong", "", "hf:org/model@abc"}};
  config_.repeats = 1;

  auto records = run_matrix(config_);
  ASSERT_EQ(records.size(), 2u);
  const RunRecord& good = records[0];
  EXPECT_EQ(good.model, "good");
  EXPECT_EQ(good.task, "04-rate-limiter");
  EXPECT_EQ(good.task_kind, "from scratch");
  EXPECT_TRUE(good.evaluation.public_tests.passed);
  EXPECT_TRUE(good.evaluation.heldout.passed);
  EXPECT_EQ(good.error, "");
  EXPECT_EQ(good.turns, 2);
  EXPECT_EQ(good.tool_calls, 1);
  EXPECT_EQ(good.session_id, "fake-good-04-rate-limiter");
  EXPECT_EQ(good.artifact, "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");  // of "{}"
  ASSERT_TRUE(good.metrics.has_value());
  EXPECT_EQ(good.metrics->tokens_reused, 900);
  EXPECT_EQ(good.changed_files, (std::vector<std::string>{"src/rateLimiter.ts"}));
  EXPECT_NE(good.diff.find("Math.floor(this.now() / this.windowMs)"), std::string::npos);

  const RunRecord& wrong = records[1];
  EXPECT_TRUE(wrong.evaluation.public_tests.passed);
  EXPECT_FALSE(wrong.evaluation.heldout.passed);
  EXPECT_GT(wrong.evaluation.heldout.fail, 0);
  EXPECT_EQ(wrong.artifact, "hf:org/model@abc");
  EXPECT_FALSE(wrong.metrics.has_value());

  // The agent saw the server's URL and its own config folder, not the caller's credentials.
  std::ifstream env_seen(out_ / "work" / "good-04-rate-limiter-r1" / "claude-config" / "fake-agent-env.txt");
  std::string env((std::istreambuf_iterator<char>(env_seen)), {});
  EXPECT_NE(env.find("ANTHROPIC_BASE_URL=http://127.0.0.1:"), std::string::npos) << env;
  EXPECT_NE(env.find("ANTHROPIC_MODEL=good"), std::string::npos);
  EXPECT_NE(env.find("CLAUDE_CONFIG_DIR="), std::string::npos);
  EXPECT_EQ(env.find("caller-secret"), std::string::npos);
  EXPECT_EQ(env.find("CLAUDE_CODE_SOMETHING"), std::string::npos);
  // The held-out tests were never in the working copy, nor anywhere next to it.
  EXPECT_FALSE(fs::exists(out_ / "work" / "good-04-rate-limiter-r1" / "work" / "heldout"));
  for (const auto& e : fs::recursive_directory_iterator(out_ / "work")) {
    EXPECT_EQ(e.path().filename().string().find("heldout"), std::string::npos) << e.path();
  }

  // One JSON line per run, readable by the report.
  auto lines = read_results(out_ / "results.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(lines[0].evaluation.heldout.passed);
  EXPECT_FALSE(lines[1].evaluation.heldout.passed);
  EXPECT_TRUE(fs::exists(out_ / "runs" / "good" / "04-rate-limiter" / "r1" / "transcript.jsonl"));
  EXPECT_TRUE(fs::exists(out_ / "runs" / "good" / "04-rate-limiter" / "r1" / "diff.patch"));
  EXPECT_TRUE(fs::exists(out_ / "runs" / "good" / "04-rate-limiter" / "r1" / "evaluation" / "heldout.log"));
}

TEST_F(BenchRunner, AgentPastTheTimeLimitOrCrashingIsRecordedAsAFailedRun) {
  config_.models = {{"slow", "", ""}, {"crash", "", ""}};
  config_.run_time_limit = std::chrono::seconds(1);
  auto records = run_matrix(config_);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_TRUE(records[0].timed_out);
  EXPECT_NE(records[0].error.find("time limit"), std::string::npos);
  EXPECT_LT(records[0].wall_s, 20);
  EXPECT_FALSE(records[0].evaluation.heldout.passed);
  EXPECT_FALSE(records[1].timed_out);
  EXPECT_EQ(records[1].agent_exit_code, 1);
  EXPECT_NE(records[1].error.find("without a result line"), std::string::npos);
  EXPECT_FALSE(records[1].evaluation.public_tests.passed);
}

// True while a process whose command line starts with `name` exists.
bool process_named(const std::string& name) {
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::ifstream in(e.path() / "cmdline");
    std::string cmdline;
    if (in && std::getline(in, cmdline, '\0') && cmdline == name) return true;
  }
  return false;
}

TEST_F(BenchRunner, ASetsidDaemonOfTheAgentDiesWithTheRunAndTheTasksAreHiddenFromIt) {
  if (!containment_available()) GTEST_SKIP() << "no PID/mount namespaces here (not root)";
  const std::string straggler = "hearth-bench-straggler-" + std::to_string(::getpid());
  ::setenv("HEARTH_FAKE_AGENT_STRAGGLER", straggler.c_str(), 1);
  ::setenv("HEARTH_FAKE_AGENT_PROBE", HEARTH_BENCH_DIR "/tasks", 1);
  config_.models = {{"escape", "", ""}};
  auto records = run_matrix(config_);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].error, "");
  EXPECT_FALSE(process_named(straggler)) << "the agent's setsid daemon outlived the run";
  std::ifstream probe(out_ / "work" / "escape-04-rate-limiter-r1" / "claude-config" / "fake-agent-probe.txt");
  std::string seen;
  probe >> seen;
  EXPECT_EQ(seen, "hidden");
  // The same probe from here sees the tasks: the daemon check above is not vacuous.
  EXPECT_TRUE(fs::exists(HEARTH_BENCH_DIR "/tasks/04-rate-limiter/heldout"));
}

TEST_F(BenchRunner, SetUpProblemsAreErrorsBeforeAnyRun) {
  config_.models = {};
  EXPECT_THROW(run_matrix(config_), Error);
  config_.models = {{"good", "", ""}};
  config_.server.serve_argv = {"python3", "-c", "import sys; sys.exit(3)"};
  EXPECT_THROW(run_matrix(config_), Error);  // the server exits before it is healthy
  config_.server.serve_argv.clear();
  config_.server.url = "http://127.0.0.1:1";
  EXPECT_THROW(run_matrix(config_), Error);  // nothing answers there
  config_.task_ids = {"99-missing"};
  EXPECT_THROW(run_matrix(config_), Error);
}

}  // namespace
}  // namespace hearth::bench
