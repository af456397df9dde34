// hearth bench-serve: N agent sessions at once through the scheduler (continuous batching over the
// model's slots) on any model, dummy weights included; per N the aggregate and per-session decode
// rates and the time to first token (serve/serving_replay.h).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "app/args.h"
#include "app/bench_model.h"
#include "app/command.h"
#include "cache/byte_size.h"
#include "engine/demo_model.h"
#include "engine/loader.h"
#include "serve/serving_replay.h"
#include "util/error.h"

namespace hearth::app {
namespace {

constexpr const char* kUsage =
    "usage: hearth bench-serve (--model DIR [--dummy] | --demo) [options]\n"
    "Runs N synthetic agent sessions at once through the server's scheduler and prompt cache: every session\n"
    "starts from the same tools + system prefix, then TURNS turns each append NEW tokens (a tool result) to\n"
    "its conversation and generate OUT tokens. For each N prints the aggregate and per-session decode rates\n"
    "and the time to first token (turns after the first: p50 / p99).\n"
    "  --model DIR          model directory (config.json, and safetensors unless --dummy)\n"
    "  --dummy              random weights from config.json alone\n"
    "  --demo               the built-in demo model\n"
    "  --device D           auto (default), cpu or cuda\n"
    "  --threads N          CPU threads (0: all cores)\n"
    "  --sessions LIST      concurrent sessions, each a run, default 1,2,4,8,16 (the model gets max(LIST) slots)\n"
    "  --turns N            default 4\n"
    "  --shared-tokens N    tools + system prefix shared by the sessions, default 20000\n"
    "  --new-tokens N       new tokens per turn, default 1000\n"
    "  --output-tokens N    generated tokens per turn, default 128\n"
    "  --step-tokens N      tokens per scheduler step (hearth serve --step-tokens), default 512\n"
    "  --cache-device-bytes SIZE   default 16G\n"
    "  --cache-host-bytes SIZE     default 32G\n"
    "  --seed N             default 1\n"
    "  --json FILE          also write the report as JSON\n"
    "Issue 11's serving benchmark:\n"
    "  hearth bench-serve --model DIR --dummy --device cuda --sessions 1,2,4,8,16\n";

struct Args {
  BenchModelArgs model;
  std::vector<int64_t> sessions{1, 2, 4, 8, 16};
  size_t device_bytes = size_t(16) << 30;
  size_t host_bytes = size_t(32) << 30;
  std::string json_path;
  serve::ServingReplayOptions replay;
};

bool parse(int argc, char** argv, Args& a) {
  ArgCursor args(argc, argv);
  while (args.more()) {
    const std::string arg = args.next();
    if (arg == "--help" || arg == "-h") return false;
    if (a.model.parse(arg, args)) continue;
    if (arg == "--sessions") a.sessions = integer_list_argument(arg, args.value(), 1, 64);
    else if (arg == "--turns") a.replay.turns = int(integer_argument(arg, args.value(), 1, 100000));
    else if (arg == "--shared-tokens") a.replay.shared_tokens = integer_argument(arg, args.value(), 0, int64_t(1) << 24);
    else if (arg == "--new-tokens") a.replay.new_tokens = integer_argument(arg, args.value(), 1, int64_t(1) << 24);
    else if (arg == "--output-tokens") a.replay.output_tokens = integer_argument(arg, args.value(), 1, int64_t(1) << 20);
    else if (arg == "--step-tokens") a.replay.step_tokens = integer_argument(arg, args.value(), 1, int64_t(1) << 20);
    else if (arg == "--cache-device-bytes") a.device_bytes = cache::parse_byte_size(args.value(), arg);
    else if (arg == "--cache-host-bytes") a.host_bytes = cache::parse_byte_size(args.value(), arg);
    else if (arg == "--seed") a.replay.seed = uint64_t(integer_argument(arg, args.value(), 0, INT64_MAX));
    else if (arg == "--json") a.json_path = args.value();
    else throw Error("unknown option " + arg + " (see hearth bench-serve --help)", ErrorKind::invalid_request);
  }
  a.model.check();
  return true;
}

nlohmann::ordered_json run_json(const serve::ServingReport& r) {
  nlohmann::ordered_json j;
  j["sessions"] = r.sessions;
  j["wall_s"] = r.wall_seconds;
  j["generated_tokens"] = r.generated_tokens;
  j["aggregate_decode_tok_s"] = r.aggregate_decode_tokens_per_second;
  j["session_decode_tok_s"] = r.session_decode_tokens_per_second;
  j["ttft_p50_ms"] = r.ttft_p50_seconds * 1000;
  j["ttft_p99_ms"] = r.ttft_p99_seconds * 1000;
  j["first_turn_ttft_max_ms"] = r.first_turn_ttft_max_seconds * 1000;
  j["turns"] = nlohmann::ordered_json::array();
  for (const serve::ServedTurn& t : r.turns) {
    j["turns"].push_back({{"session", t.session},
                          {"turn", t.turn},
                          {"prompt_tokens", t.prompt_tokens},
                          {"reused_tokens", t.reused_tokens},
                          {"ttft_ms", t.ttft_seconds * 1000},
                          {"decode_tok_s", t.decode_tokens_per_second()},
                          {"generated_tokens", t.generated_tokens}});
  }
  return j;
}

int run_bench_serve(int argc, char** argv) {
  Args a;
  if (!parse(argc, argv, a)) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  const serve::ServingReplayOptions& o = a.replay;
  const int32_t slots = int32_t(*std::max_element(a.sessions.begin(), a.sessions.end()));
  const int64_t context = o.shared_tokens + o.turns * (o.new_tokens + o.output_tokens) + 64;
  std::unique_ptr<engine::Model> model = a.model.load(slots, context, "bench-serve");

  std::printf("hearth bench-serve: %s\n", model->info().description.c_str());
  std::printf("  %d turns a session: %lld shared + %lld new tokens per turn, %lld output tokens; %d slots; %lld tokens a step\n",
              o.turns, (long long)o.shared_tokens, (long long)o.new_tokens, (long long)o.output_tokens, model->info().slots,
              (long long)o.step_tokens);
  std::printf("%8s %12s %14s %14s %12s %12s %14s %8s\n", "sessions", "agg_tok_s", "per_session_min", "per_session_avg",
              "ttft_p50_ms", "ttft_p99_ms", "turn1_ttft_max", "wall_s");
  std::fflush(stdout);
  nlohmann::ordered_json runs = nlohmann::ordered_json::array();
  for (int64_t n : a.sessions) {
    cache::PromptCacheConfig config;
    config.store.device_budget_bytes = a.device_bytes;
    config.store.host_budget_bytes = a.host_bytes;
    // A fresh cache per run: nothing carries over from the previous N but the slots' stale contents,
    // which the cache does not know and so resets before use.
    cache::PromptCache prompt_cache(*model, config);
    serve::ServingReplayOptions run = o;
    run.sessions = int(n);
    const serve::ServingReport r = serve::replay_concurrent_sessions(*model, prompt_cache, run);
    const auto& rates = r.session_decode_tokens_per_second;
    double mean = 0;
    for (double v : rates) mean += v / double(rates.size());
    std::printf("%8d %12.1f %14.1f %14.1f %12.1f %12.1f %14.1f %8.1f\n", r.sessions, r.aggregate_decode_tokens_per_second,
                *std::min_element(rates.begin(), rates.end()), mean, r.ttft_p50_seconds * 1000, r.ttft_p99_seconds * 1000,
                r.first_turn_ttft_max_seconds * 1000, r.wall_seconds);
    std::fflush(stdout);
    runs.push_back(run_json(r));
  }
  if (!a.json_path.empty()) {
    nlohmann::ordered_json j;
    j["model"] = model->info().description;
    j["turns"] = o.turns;
    j["shared_tokens"] = o.shared_tokens;
    j["new_tokens"] = o.new_tokens;
    j["output_tokens"] = o.output_tokens;
    j["step_tokens"] = o.step_tokens;
    j["runs"] = runs;
    std::ofstream out(a.json_path);
    out << j.dump(1) << "\n";
    if (!out) throw Error("cannot write " + a.json_path, ErrorKind::io);
  }
  return 0;
}

const CommandRegistration registration{"bench-serve", "N agent sessions at once through the scheduler (decode rates, TTFT)",
                                       run_bench_serve};

}  // namespace
}  // namespace hearth::app
