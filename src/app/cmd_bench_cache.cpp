// hearth bench-cache: replays a synthetic agent session through the prompt cache on any model (dummy
// weights are fine) and reports per-turn time to first token, tokens prefilled against prompt tokens,
// and the cost of saving and restoring a checkpoint.
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
#include "cache/agent_replay.h"
#include "cache/byte_size.h"
#include "engine/demo_model.h"
#include "engine/loader.h"
#include "util/error.h"

namespace hearth::app {
namespace {

constexpr const char* kUsage =
    "usage: hearth bench-cache (--model DIR [--dummy] | --demo) [options]\n"
    "Replays an agent session that grows turn by turn (a static prefix, then TURNS turns of NEW tokens each\n"
    "and OUT generated tokens) through the prompt cache, and prints per turn the time to first token and\n"
    "what was prefilled; then the totals and the cost of one state snapshot at the final length.\n"
    "  --model DIR          model directory (config.json, and safetensors unless --dummy)\n"
    "  --dummy              random weights from config.json alone\n"
    "  --demo               the built-in demo model (random weights, Qwen3 vocabulary size)\n"
    "  --device D           auto (default), cpu or cuda\n"
    "  --threads N          CPU threads (0: all cores)\n"
    "  --slots N            sequence slots, as hearth serve --parallel (0, the default: 4 on CUDA, 1 on the\n"
    "                       CPU); each turn runs in the slot the server would choose\n"
    "  --turns N            default 20\n"
    "  --static-tokens N    tools + system prefix, default 1000\n"
    "  --new-tokens N       new tokens per turn, default 1000\n"
    "  --output-tokens N    generated tokens per turn, default 16\n"
    "  --no-side-requests   let each turn continue the model's live sequence (default: a short unrelated\n"
    "                       request runs between turns, so every turn resumes from a checkpoint)\n"
    "  --no-cache           prompt cache off: every turn prefills its whole prompt (the baseline)\n"
    "  --cache-device-bytes SIZE   default 16G\n"
    "  --cache-host-bytes SIZE     default 32G\n"
    "  --prefill-chunk N    default 512\n"
    "  --seed N             default 1\n"
    "  --json FILE          also write the report as JSON\n"
    "Issue 6's benchmark (a session growing to ~41k tokens in 20 turns of ~1k new tokens):\n"
    "  hearth bench-cache --model DIR --dummy --turns 20 --static-tokens 20000 --new-tokens 1000 --output-tokens 32\n";

struct Args {
  BenchModelArgs model;
  int32_t slots = 0;  // 0: the server's default (engine/loader.h)
  bool cache_on = true;
  size_t device_bytes = size_t(16) << 30;
  size_t host_bytes = size_t(32) << 30;
  std::string json_path;
  cache::ReplayOptions replay;
};

bool parse(int argc, char** argv, Args& a) {
  ArgCursor args(argc, argv);
  while (args.more()) {
    const std::string arg = args.next();
    if (arg == "--help" || arg == "-h") return false;
    if (a.model.parse(arg, args)) continue;
    if (arg == "--slots") a.slots = int32_t(integer_argument(arg, args.value(), 0, 64));
    else if (arg == "--turns") a.replay.turns = int(integer_argument(arg, args.value(), 1, 100000));
    else if (arg == "--static-tokens") a.replay.static_tokens = integer_argument(arg, args.value(), 0, int64_t(1) << 24);
    else if (arg == "--new-tokens") a.replay.new_tokens = integer_argument(arg, args.value(), 1, int64_t(1) << 24);
    else if (arg == "--output-tokens") a.replay.output_tokens = integer_argument(arg, args.value(), 1, int64_t(1) << 20);
    else if (arg == "--no-side-requests") a.replay.interleave_side_requests = false;
    else if (arg == "--no-cache") a.cache_on = false;
    else if (arg == "--cache-device-bytes") a.device_bytes = cache::parse_byte_size(args.value(), arg);
    else if (arg == "--cache-host-bytes") a.host_bytes = cache::parse_byte_size(args.value(), arg);
    else if (arg == "--prefill-chunk") a.replay.prefill_chunk = integer_argument(arg, args.value(), 1, int64_t(1) << 20);
    else if (arg == "--seed") a.replay.seed = uint64_t(integer_argument(arg, args.value(), 0, INT64_MAX));
    else if (arg == "--json") a.json_path = args.value();
    else throw Error("unknown option " + arg + " (see hearth bench-cache --help)", ErrorKind::invalid_request);
  }
  a.model.check();
  return true;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

nlohmann::ordered_json report_json(const Args& a, const std::string& model, const cache::ReplayReport& r) {
  nlohmann::ordered_json j;
  j["model"] = model;
  j["cache"] = a.cache_on;
  j["side_requests"] = a.replay.interleave_side_requests;
  j["turns"] = nlohmann::ordered_json::array();
  for (const auto& t : r.turns) {
    j["turns"].push_back({{"prompt_tokens", t.prompt_tokens},
                          {"reused_tokens", t.reused_tokens},
                          {"prefilled_tokens", t.prefilled_tokens},
                          {"source", std::string(cache::to_string(t.source))},
                          {"ttft_ms", t.ttft_seconds * 1000},
                          {"restore_ms", t.restore_seconds * 1000},
                          {"save_ms", t.save_seconds * 1000},
                          {"checkpoints_saved", t.checkpoints_saved}});
  }
  j["total_prompt_tokens"] = r.total_prompt_tokens;
  j["total_prefilled_tokens"] = r.total_prefilled_tokens;
  j["total_reused_tokens"] = r.total_reused_tokens;
  j["snapshot"] = {{"position", r.snapshot_position},
                   {"device_bytes", r.snapshot_device_bytes},
                   {"host_bytes", r.snapshot_host_bytes},
                   {"save_ms", r.save_seconds * 1000},
                   {"restore_ms", r.restore_seconds * 1000}};
  j["cache_stats"] = {{"device_bytes", r.cache.device_bytes}, {"host_bytes", r.cache.host_bytes},
                      {"device_checkpoints", r.cache.device_checkpoints}, {"host_checkpoints", r.cache.host_checkpoints},
                      {"demoted", r.cache.demoted}, {"evicted", r.cache.evicted}};
  return j;
}

int run_bench_cache(int argc, char** argv) {
  Args a;
  if (!parse(argc, argv, a)) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  const cache::ReplayOptions& o = a.replay;
  const int64_t context = o.static_tokens + o.turns * (o.new_tokens + o.output_tokens + 1) + 64;
  std::unique_ptr<engine::Model> model = a.model.load(a.slots, context, "bench-cache");

  cache::PromptCacheConfig config;
  config.enabled = a.cache_on;
  config.store.device_budget_bytes = a.device_bytes;
  config.store.host_budget_bytes = a.host_bytes;
  cache::PromptCache prompt_cache(*model, config);

  std::printf("hearth bench-cache: %s\n", model->info().description.c_str());
  std::printf("  %d turns: %lld static + %lld new tokens per turn, %lld output tokens; cache %s; side requests %s; %d slot(s)\n",
              o.turns, (long long)o.static_tokens, (long long)o.new_tokens, (long long)o.output_tokens,
              a.cache_on ? "on" : "off", o.interleave_side_requests ? "on" : "off", model->info().slots);
  std::printf("%5s %8s %8s %9s %7s %9s %10s %8s %6s\n", "turn", "prompt", "reused", "prefilled", "source", "ttft_ms",
              "restore_ms", "save_ms", "ckpts");
  std::fflush(stdout);
  cache::ReplayReport report = cache::replay_agent_session(*model, prompt_cache, o, [](int t, const cache::ReplayTurn& turn) {
    std::printf("%5d %8lld %8lld %9lld %7s %9.1f %10.2f %8.2f %6d\n", t + 1, (long long)turn.prompt_tokens,
                (long long)turn.reused_tokens, (long long)turn.prefilled_tokens, std::string(cache::to_string(turn.source)).c_str(),
                turn.ttft_seconds * 1000, turn.restore_seconds * 1000, turn.save_seconds * 1000, turn.checkpoints_saved);
    std::fflush(stdout);
  });

  std::vector<double> later_ttft;
  for (size_t i = 1; i < report.turns.size(); ++i) later_ttft.push_back(report.turns[i].ttft_seconds * 1000);
  const double reused_share = report.total_prompt_tokens > 0 ? 100.0 * double(report.total_reused_tokens) / double(report.total_prompt_tokens) : 0;
  std::printf("total: %lld prompt tokens, %lld prefilled, %lld reused (%.1f%%)\n", (long long)report.total_prompt_tokens,
              (long long)report.total_prefilled_tokens, (long long)report.total_reused_tokens, reused_share);
  std::printf("time to first token after turn 1: median %.1f ms, max %.1f ms\n", median(later_ttft),
              later_ttft.empty() ? 0.0 : *std::max_element(later_ttft.begin(), later_ttft.end()));
  std::printf("snapshot at %lld tokens: %s device + %s host; save %.2f ms, restore %.2f ms\n",
              (long long)report.snapshot_position, cache::format_byte_size(report.snapshot_device_bytes).c_str(),
              cache::format_byte_size(report.snapshot_host_bytes).c_str(), report.save_seconds * 1000,
              report.restore_seconds * 1000);
  std::printf("cache: %zu device + %zu host checkpoints (%s + %s), %llu demoted, %llu evicted\n",
              report.cache.device_checkpoints, report.cache.host_checkpoints,
              cache::format_byte_size(report.cache.device_bytes).c_str(), cache::format_byte_size(report.cache.host_bytes).c_str(),
              (unsigned long long)report.cache.demoted, (unsigned long long)report.cache.evicted);
  if (!a.json_path.empty()) {
    std::ofstream out(a.json_path);
    out << report_json(a, model->info().description, report).dump(1) << "\n";
    if (!out) throw Error("cannot write " + a.json_path, ErrorKind::io);
  }
  return 0;
}

const CommandRegistration registration{"bench-cache", "Replay an agent session through the prompt cache (TTFT, reuse)",
                                       run_bench_cache};

}  // namespace
}  // namespace hearth::app
