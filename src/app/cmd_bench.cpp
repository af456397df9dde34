// hearth bench: the agent benchmark. `hearth bench run` drives Claude Code through every model × task ×
// repeat against a hearth server and scores each run with held-out tests; `hearth bench report` turns the
// results into Markdown tables and an SVG chart.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "app/command.h"
#include "bench/report.h"
#include "bench/runner.h"
#include "bench/subprocess.h"
#include "bench/summary.h"
#include "util/error.h"

#ifndef HEARTH_BENCH_SOURCE_ROOT
#define HEARTH_BENCH_SOURCE_ROOT ""
#endif

namespace {
namespace fs = std::filesystem;
using hearth::Error;
using hearth::ErrorKind;

constexpr const char* kUsage =
    "usage: hearth bench run --model NAME[=PATH] [--model ...] [options]\n"
    "       hearth bench report RESULTS.jsonl [--out REPORT.md] [--svg CHART.svg] [--title TEXT]\n"
    "\n"
    "run: for each model x task x repeat, a fresh git working copy of the task, Claude Code run in it\n"
    "non-interactively against a hearth server, then public and held-out tests in a separate copy.\n"
    "Appends one JSON line per run to OUT/results.jsonl (transcripts, diffs, logs under OUT/runs/).\n"
    "  --model NAME[=PATH]   model name Claude Code asks for; PATH (model directory or scripted-model\n"
    "                        file) is passed to the server command and identifies the artifact\n"
    "  --artifact NAME=ID    artifact identity for NAME instead of hashing its PATH\n"
    "  --task ID             only this task (repeatable; default: every task)\n"
    "  --repeats N           runs per model and task (default 1)\n"
    "  --out DIR             results folder (default bench-results/<UTC time>)\n"
    "  --server-url URL      use this running server for every model (e.g. http://127.0.0.1:8080)\n"
    "  --metrics-log PATH    that server's metrics log, for per-session cache and speed figures\n"
    "  --serve-args ARGS     otherwise start `hearth ARGS` per model; placeholders {port} {model}\n"
    "                        {model_path} {metrics_log} (default: \"serve --port {port} --model\n"
    "                        {model_path}\", plus \"--metrics-log {metrics_log}\" when serve has it)\n"
    "  --hearth PATH         the hearth binary for --serve-args (default: this one)\n"
    "  --startup-timeout S   seconds to wait for a started server's /health (default 600)\n"
    "  --claude PATH         the Claude Code CLI (default: tests/e2e/node_modules/.bin/claude of the\n"
    "                        source tree, else `claude` in PATH)\n"
    "  --api-key KEY         sent to the server as x-api-key (default hearth-bench)\n"
    "  --time-limit S        wall-clock limit per run (default 1800)\n"
    "  --max-turns N         Claude Code's --max-turns (default: its own)\n"
    "  --bench-dir DIR       folder with tasks/, evaluate.sh, node_modules/ (default: ./bench, else\n"
    "                        the source tree's)\n"
    "  --keep-work           keep the agents' working copies\n"
    "\n"
    "report: per-model table (passes, wall time, turns, prefill and decode speed, cache figures, peak\n"
    "memory), pass matrix per task, one row per run; Markdown to --out (default: stdout), SVG chart of\n"
    "wall time and decode speed to --svg.\n";

struct Args {
  int argc;
  char** argv;
  int i = 1;
  bool more() const { return i < argc; }
  std::string next() { return argv[i++]; }
  std::string value(const std::string& flag) {
    if (i >= argc) throw Error(flag + " needs a value", ErrorKind::invalid_request);
    return argv[i++];
  }
};

int to_int(const std::string& flag, const std::string& text, int min) {
  try {
    size_t used = 0;
    int v = std::stoi(text, &used);
    if (used == text.size() && v >= min) return v;
  } catch (const std::exception&) {
  }
  throw Error(flag + " needs a whole number >= " + std::to_string(min) + ", got '" + text + "'",
              ErrorKind::invalid_request);
}

std::vector<std::string> split_words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

fs::path find_bench_dir(const std::string& given) {
  if (!given.empty()) return fs::absolute(given);
  if (fs::exists("bench/tasks")) return fs::absolute("bench");
  fs::path source = HEARTH_BENCH_SOURCE_ROOT;
  if (!source.empty() && fs::exists(source / "bench" / "tasks")) return source / "bench";
  throw Error("cannot find the benchmark tasks: run from the repository root or pass --bench-dir", ErrorKind::not_found);
}

std::string find_claude(const std::string& given, const fs::path& bench_dir) {
  if (!given.empty()) return fs::absolute(given).string();
  fs::path local = bench_dir.parent_path() / "tests" / "e2e" / "node_modules" / ".bin" / "claude";
  if (fs::exists(local)) return local.string();
  return "claude";
}

// `serve --port {port} --model {model_path}`, with `--metrics-log {metrics_log}` where this hearth's
// serve has that flag (its --help says so), so that runs get per-session cache and speed figures.
std::string default_serve_args(const std::string& hearth_path) {
  std::string args = "serve --port {port} --model {model_path}";
  try {
    const std::string help = hearth::bench::capture_output({hearth_path, "serve", "--help"}, fs::current_path(),
                                                           std::chrono::seconds(30));
    if (help.find("--metrics-log") != std::string::npos) args += " --metrics-log {metrics_log}";
  } catch (const Error&) {
    // No usable --help: start without a metrics log; runs then simply have no metrics.
  }
  return args;
}

std::string utc_stamp() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

int run_bench_run(Args args) {
  hearth::bench::RunnerConfig config;
  std::string bench_dir_arg, claude_arg, serve_args, hearth_path, out;
  std::vector<std::pair<std::string, std::string>> artifacts;
  while (args.more()) {
    const std::string flag = args.next();
    if (flag == "--help" || flag == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (flag == "--model") {
      const std::string v = args.value(flag);
      const auto eq = v.find('=');
      hearth::bench::ModelSpec model{v.substr(0, eq), eq == std::string::npos ? "" : v.substr(eq + 1), ""};
      if (model.name.empty()) throw Error("--model needs a name", ErrorKind::invalid_request);
      if (!model.path.empty()) model.path = fs::absolute(model.path);
      config.models.push_back(model);
    } else if (flag == "--artifact") {
      const std::string v = args.value(flag);
      const auto eq = v.find('=');
      if (eq == std::string::npos || eq == 0) throw Error("--artifact needs NAME=ID", ErrorKind::invalid_request);
      artifacts.emplace_back(v.substr(0, eq), v.substr(eq + 1));
    } else if (flag == "--task") {
      config.task_ids.push_back(args.value(flag));
    } else if (flag == "--repeats") {
      config.repeats = to_int(flag, args.value(flag), 1);
    } else if (flag == "--out") {
      out = args.value(flag);
    } else if (flag == "--server-url") {
      config.server.url = args.value(flag);
      while (!config.server.url.empty() && config.server.url.back() == '/') config.server.url.pop_back();
    } else if (flag == "--metrics-log") {
      config.server.metrics_log = fs::absolute(args.value(flag));
    } else if (flag == "--serve-args") {
      serve_args = args.value(flag);
    } else if (flag == "--hearth") {
      hearth_path = fs::absolute(args.value(flag)).string();
    } else if (flag == "--startup-timeout") {
      config.server.startup_timeout = std::chrono::seconds(to_int(flag, args.value(flag), 1));
    } else if (flag == "--claude") {
      claude_arg = args.value(flag);
    } else if (flag == "--api-key") {
      config.api_key = args.value(flag);
    } else if (flag == "--time-limit") {
      config.run_time_limit = std::chrono::seconds(to_int(flag, args.value(flag), 1));
    } else if (flag == "--max-turns") {
      config.max_turns = to_int(flag, args.value(flag), 1);
    } else if (flag == "--bench-dir") {
      bench_dir_arg = args.value(flag);
    } else if (flag == "--keep-work") {
      config.keep_work = true;
    } else {
      throw Error("unknown option '" + flag + "' (hearth bench --help)", ErrorKind::invalid_request);
    }
  }
  if (config.models.empty()) throw Error("give at least one --model (hearth bench --help)", ErrorKind::invalid_request);
  for (const auto& [name, id] : artifacts) {
    bool found = false;
    for (auto& m : config.models) {
      if (m.name == name) m.artifact = id, found = true;
    }
    if (!found) throw Error("--artifact names unknown model '" + name + "'", ErrorKind::invalid_request);
  }
  const fs::path bench_dir = find_bench_dir(bench_dir_arg);
  config.tasks_dir = bench_dir / "tasks";
  config.toolchain_dir = bench_dir / "node_modules";
  config.evaluate_script = bench_dir / "evaluate.sh";
  config.agent_command = {find_claude(claude_arg, bench_dir)};
  config.out_dir = fs::absolute(out.empty() ? "bench-results/" + utc_stamp() : out);
  if (config.server.url.empty()) {
    if (hearth_path.empty()) hearth_path = fs::read_symlink("/proc/self/exe").string();
    if (serve_args.empty()) serve_args = default_serve_args(hearth_path);
    config.server.serve_argv = {hearth_path};
    for (auto& w : split_words(serve_args)) config.server.serve_argv.push_back(w);
  }
  config.progress = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  const auto records = hearth::bench::run_matrix(config);
  int heldout = 0;
  for (const auto& r : records) heldout += r.evaluation.heldout.passed;
  std::fprintf(stderr, "%zu runs, %d passed the held-out tests; results in %s\n", records.size(), heldout,
               (config.out_dir / "results.jsonl").c_str());
  return 0;
}

int run_bench_report(Args args) {
  std::string results, out, svg;
  hearth::bench::ReportOptions options;
  while (args.more()) {
    const std::string arg = args.next();
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--out" || arg == "-o") {
      out = args.value(arg);
    } else if (arg == "--svg") {
      svg = args.value(arg);
    } else if (arg == "--title") {
      options.title = args.value(arg);
    } else if (!arg.empty() && arg[0] == '-') {
      throw Error("unknown option '" + arg + "' (hearth bench --help)", ErrorKind::invalid_request);
    } else if (results.empty()) {
      results = arg;
    } else {
      throw Error("one RESULTS.jsonl only, got '" + arg + "' too", ErrorKind::invalid_request);
    }
  }
  if (results.empty()) throw Error("usage: hearth bench report RESULTS.jsonl [--out REPORT.md] [--svg CHART.svg]", ErrorKind::invalid_request);
  const auto runs = hearth::bench::read_results(results);
  if (!svg.empty()) {
    std::ofstream f(svg);
    if (!(f << hearth::bench::svg_chart(runs))) throw Error("cannot write '" + svg + "'", ErrorKind::io);
    // Linked relative to the report when both are written.
    options.chart_file = out.empty() ? svg : fs::relative(fs::absolute(svg), fs::absolute(out).parent_path()).string();
  }
  const std::string markdown = hearth::bench::markdown_report(runs, options);
  if (out.empty()) {
    std::fputs(markdown.c_str(), stdout);
  } else {
    std::ofstream f(out);
    if (!(f << markdown)) throw Error("cannot write '" + out + "'", ErrorKind::io);
  }
  return 0;
}

int run_bench(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string sub = argv[1];
  Args rest{argc - 1, argv + 1};
  if (sub == "run") return run_bench_run(rest);
  if (sub == "report") return run_bench_report(rest);
  throw Error("unknown bench command '" + sub + "': use run or report", ErrorKind::invalid_request);
}

const hearth::app::CommandRegistration registration{"bench", "Agent benchmark: run Claude Code on tasks, report",
                                                    run_bench};

}  // namespace
