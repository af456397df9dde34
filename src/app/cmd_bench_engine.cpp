// hearth bench-engine: the engine's speed on one model — prefill tokens/s and time to first token for
// prompts of several lengths, decode tokens/s at several context lengths, peak GPU memory, and decode's
// achieved share of the memory bandwidth measured in the same run (bytes a decode step must read /
// step time / device-to-device copy bandwidth). A benchmark, not a test: it prints numbers.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/args.h"
#include "app/command.h"
#include "engine/loader.h"
#include "engine/qwen35_model.h"
#include "util/error.h"
#ifdef HEARTH_HAVE_CUDA
#include "engine/cuda/cuda_ops.h"
#include "engine/cuda/device_probe.h"
#endif

namespace {

using hearth::Error;
using hearth::ErrorKind;
using namespace hearth::engine;

constexpr const char* kUsage =
    "usage: hearth bench-engine (--model DIR | --config CONFIG.json --load-format dummy) [options]\n"
    "Measures prefill and decode speed of one model (batch 1).\n"
    "  --device cpu|cuda|auto     backend (default auto: CUDA when a GPU is present)\n"
    "  --prompts 512,8192,32768   prompt lengths: prefill tokens/s and time to first token\n"
    "  --contexts 0,8192,32768    decode tokens/s after a prompt of this many tokens\n"
    "  --decode-steps N           timed decode steps per context (default 64)\n"
    "  --profile 0,8192           also time each op of eager decode steps (GPU) at these contexts\n"
    "  --profile-prefill N        also time each op of one prefill of N tokens (GPU)\n"
    "  --batch N,...              also decode N sequences together (one slot each), aggregate tokens/s\n"
    "  --batch-context N          tokens each of those sequences holds first (default 1024)\n"
    "  --profile-batch N          also time each op of eager steps of N sequences decoded together (GPU)\n"
    "  --verify-costs 1,2,4,8     also time a forward of k tokens with a logits row each (speculative\n"
    "                             verification; k <= 9) with the slot's save and restore, against a\n"
    "                             one-token step; prints the k:ratio table bench-lookup --verify-cost reads\n"
    "  --verify-context N         tokens the sequence holds for those (default 1024)\n"
    "  --json FILE                write the results as JSON\n"
    "  --seed N                   dummy weights and prompt tokens (default 1)\n"
    "  --threads N                CPU threads (cpu device)\n"
    "  --precision fast|exact     CUDA prefill products: bf16 operands (default) or float32-faithful\n";

struct Options {
  std::string model, config;
  LoadFormat format = LoadFormat::safetensors;
  Device device = Device::automatic;
  std::vector<int64_t> prompts{512, 8192, 32768};
  std::vector<int64_t> contexts{0, 8192, 32768};
  int64_t decode_steps = 64;
  std::vector<int64_t> profile_contexts;
  int64_t profile_prefill = 0;
  std::vector<int64_t> batches;   // sequences decoded together (--batch); empty: none
  int64_t batch_context = 1024;
  int64_t profile_batch = 0;      // sequences of the profiled batched step (--profile-batch); 0: none
  std::vector<int64_t> verify_k;  // --verify-costs; empty: none
  int64_t verify_context = 1024;
  std::string json_path;
  uint64_t seed = 1;
  int threads = 0;
  Precision precision = Precision::fast;
};

std::vector<int64_t> parse_list(const std::string& s) {
  std::vector<int64_t> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      out.push_back(std::stoll(item));
    } catch (...) {
      throw Error("not a number list: '" + s + "'", ErrorKind::invalid_request);
    }
  }
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Bytes one decode step must read at `context` cached positions: every matrix except the routed experts,
// top-k experts per MoE layer (gate, up, down), one embedding row, the KV cache of the full-attention
// layers, and the linear-attention state (read and written).
struct StepBytes {
  double weights = 0, kv = 0, state = 0;
  double total() const { return weights + kv + state; }
};

double matrix_bytes(const WeightMatrix& m) {
  if (m.rows == 0) return 0;
  double b = static_cast<double>(m.data_bytes());
  if (m.quantized()) b += static_cast<double>(m.scales_row_bytes() * static_cast<size_t>(m.rows)) * (m.biases ? 2 : 1);
  return b;
}

StepBytes decode_step_bytes(const ModelConfig& c, const ModelWeights& w, int64_t context) {
  StepBytes s;
  s.weights += matrix_bytes(w.lm_head) + matrix_bytes(w.embed) / static_cast<double>(std::max<int64_t>(1, w.embed.rows));
  for (const LayerWeights& l : w.layers) {
    for (const WeightMatrix* m : {&l.attn.q, &l.attn.k, &l.attn.v, &l.attn.o, &l.linear.qkv, &l.linear.z, &l.linear.b,
                                  &l.linear.a, &l.linear.out, &l.mlp.gate, &l.mlp.up, &l.mlp.down, &l.moe.router,
                                  &l.moe.shared.gate, &l.moe.shared.up, &l.moe.shared.down, &l.moe.shared_gate})
      s.weights += matrix_bytes(*m);
    if (l.is_moe && !l.moe.gate.experts.empty()) {
      const double k = static_cast<double>(c.experts_per_token);
      s.weights += k * (matrix_bytes(l.moe.gate.at(0)) + matrix_bytes(l.moe.up.at(0)) + matrix_bytes(l.moe.down.at(0)));
    }
  }
  s.kv = 2.0 * static_cast<double>(c.num_full_layers()) * static_cast<double>(context) *
         static_cast<double>(c.num_kv_heads * c.head_dim) * 4.0;
  s.state = 2.0 * static_cast<double>(c.num_linear_layers()) *
            static_cast<double>(c.linear_v_heads * c.linear_k_dim * c.linear_v_dim +
                                (c.conv_kernel - 1) * c.linear_conv_channels()) * 4.0;
  return s;
}

std::vector<Token> random_tokens(int64_t n, int64_t vocab, std::mt19937_64& rng) {
  std::uniform_int_distribution<Token> d(0, static_cast<Token>(std::min<int64_t>(vocab, 200000) - 1));
  std::vector<Token> t(static_cast<size_t>(n));
  for (auto& x : t) x = d(rng);
  return t;
}

// The server's greedy choice: the best logit selected where the logits are (Model::slot_top_logits).
Token greedy(const Model& m, SlotId slot = 0) { return m.slot_top_logits(slot, 1, m.info().vocab_size).front().id; }

// Runs `steps` greedy decode steps; returns seconds.
double decode(Model& m, int64_t steps) {
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < steps; ++i) {
    const Token t = greedy(m);
    m.prefill(std::span(&t, 1));
  }
  return seconds_since(t0);
}

#ifdef HEARTH_HAVE_CUDA
// Prints the per-op GPU time of `steps` profiled steps (`wall_seconds` in all) and returns it as rows.
nlohmann::json step_profile(const std::vector<cuda::OpProfileRow>& rows, int64_t steps, double wall_seconds, const std::string& title) {
  double total = 0;
  for (const auto& r : rows) total += r.total_ms;
  std::printf("\nper-op GPU time of %s (%.3f ms of GPU time per step, %.3f ms wall):\n", title.c_str(),
              total / static_cast<double>(steps), wall_seconds * 1e3 / static_cast<double>(steps));
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : rows) {
    const double per_step = r.total_ms / static_cast<double>(steps);
    if (per_step < 0.001) continue;
    std::printf("  %8.3f ms %5.1f%% %5.0f calls  %s\n", per_step, 100.0 * r.total_ms / total,
                static_cast<double>(r.calls) / static_cast<double>(steps), r.label.c_str());
    out.push_back({{"op", r.label}, {"ms_per_step", per_step}, {"calls_per_step", static_cast<double>(r.calls) / static_cast<double>(steps)}});
  }
  return out;
}
#endif

// N slots, each reset and prefilled with `context` random tokens.
void fill_slots(Model& m, int64_t n, int64_t context, int64_t vocab, std::mt19937_64& rng) {
  for (SlotId s = 0; s < n; ++s) {
    m.reset_slot(s);
    const auto prompt = random_tokens(std::max<int64_t>(1, context), vocab, rng);
    const SlotTokens entry{s, prompt};
    m.forward(std::span(&entry, 1));
  }
}

// `count` steps of slots 0..n-1 decoding together (greedy, one token each per forward()); seconds.
double batched_steps(Model& m, int64_t n, int64_t count) {
  std::vector<Token> next(static_cast<size_t>(n));
  std::vector<SlotTokens> batch(static_cast<size_t>(n));
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < count; ++i) {
    for (SlotId s = 0; s < n; ++s) {
      next[static_cast<size_t>(s)] = greedy(m, s);
      batch[static_cast<size_t>(s)] = {s, std::span(&next[static_cast<size_t>(s)], 1)};
    }
    m.forward(batch);
  }
  return seconds_since(t0);
}

// Continuous batching's decode side: N sequences, each prefilled with batch_context tokens, decoded
// together one token each per forward(); aggregate and per-sequence tokens/s.
nlohmann::json batched_decode(Model& m, const Options& opt, int64_t vocab, std::mt19937_64& rng) {
  nlohmann::json rows = nlohmann::json::array();
  std::printf("\nbatched decode at context %lld:\n%-9s %14s %16s %10s\n", static_cast<long long>(opt.batch_context), "sequences",
              "aggregate t/s", "per sequence t/s", "ms/step");
  for (int64_t n : opt.batches) {
    fill_slots(m, n, opt.batch_context, vocab, rng);
    batched_steps(m, n, 3);  // warm-up: the eager step and the recording of this set of slots
    const double s = batched_steps(m, n, opt.decode_steps);
    const double per_step = s / static_cast<double>(opt.decode_steps);
    std::printf("%-9lld %14.1f %16.1f %10.3f\n", static_cast<long long>(n), static_cast<double>(n) / per_step, 1.0 / per_step,
                per_step * 1e3);
    std::fflush(stdout);
    rows.push_back({{"sequences", n}, {"context", opt.batch_context}, {"aggregate_tokens_per_s", static_cast<double>(n) / per_step},
                    {"per_sequence_tokens_per_s", 1.0 / per_step}, {"ms_per_step", per_step * 1e3}});
  }
  return rows;
}

// Speculative decoding's price (issue 16): per k, `steps` verifications of k tokens at the sequence's
// context — save the slot, forward the k tokens with a logits row each, pick each row's best logit,
// restore (a verification whose drafts are all rejected, before the re-run of the kept token) — against
// one-token decode steps at the same context. The save + restore pair is also timed alone.
nlohmann::json verify_costs(Model& m, const Options& opt, int64_t vocab, std::mt19937_64& rng) {
  fill_slots(m, 1, opt.verify_context, vocab, rng);
  decode(m, 4);  // warm-up: the eager step and the recording
  const int64_t steps = opt.decode_steps;
  const double one = decode(m, steps) / static_cast<double>(steps);
  const auto t_snap = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < steps; ++i) m.restore_slot(0, *m.save_slot(0));
  const double snapshot = seconds_since(t_snap) / static_cast<double>(steps);
  std::printf("\nverification cost at context %lld (one-token step %.3f ms, save + restore %.3f ms):\n%-3s %12s %12s %14s\n",
              static_cast<long long>(opt.verify_context), one * 1e3, snapshot * 1e3, "k", "ms", "x one step", "x w/o snapshot");
  nlohmann::json rows = nlohmann::json::array();
  std::string table;
  for (int64_t k : opt.verify_k) {
    const std::vector<Token> run = random_tokens(k, vocab, rng);
    const SlotTokens entry{0, run, static_cast<int32_t>(k)};
    auto verify = [&] {
      const std::unique_ptr<StateSnapshot> before = m.save_slot(0);
      m.forward(std::span(&entry, 1));
      for (int32_t r = 0; r < k; ++r) m.slot_row_top_logits(0, r, 1, vocab);
      m.restore_slot(0, *before);
    };
    verify();  // warm-up: the multi-row buffers are made on first use
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < steps; ++i) verify();
    const double t = seconds_since(t0) / static_cast<double>(steps);
    std::printf("%-3lld %12.3f %12.2f %14.2f\n", static_cast<long long>(k), t * 1e3, t / one, (t - snapshot) / one);
    std::fflush(stdout);
    rows.push_back({{"k", k}, {"ms", t * 1e3}, {"ratio", t / one}, {"ratio_without_snapshot", (t - snapshot) / one}});
    char point[48];
    std::snprintf(point, sizeof point, "%s%lld:%.3f", table.empty() ? "" : ",", static_cast<long long>(k), t / one);
    table += point;
  }
  std::printf("bench-lookup --verify-cost %s\n", table.c_str());
  return {{"context", opt.verify_context}, {"one_token_step_ms", one * 1e3}, {"save_restore_ms", snapshot * 1e3},
          {"rows", rows}, {"verify_cost_table", table}};
}

Options parse(int argc, char** argv, bool& help) {
  Options o;
  hearth::app::ArgCursor args(argc, argv);
  while (args.more()) {
    const std::string arg = args.next();
    if (arg == "--help" || arg == "-h") {
      help = true;
    } else if (arg == "--model") {
      o.model = args.value();
    } else if (arg == "--config") {
      o.config = args.value();
    } else if (arg == "--load-format") {
      const std::string f = args.value();
      if (f == "dummy") o.format = LoadFormat::dummy;
      else if (f == "safetensors") o.format = LoadFormat::safetensors;
      else throw Error("--load-format must be dummy or safetensors", ErrorKind::invalid_request);
    } else if (arg == "--device") {
      o.device = parse_device(args.value());
    } else if (arg == "--prompts") {
      o.prompts = parse_list(args.value());
    } else if (arg == "--contexts") {
      o.contexts = parse_list(args.value());
    } else if (arg == "--decode-steps") {
      o.decode_steps = parse_list(args.value()).at(0);
    } else if (arg == "--profile") {
      o.profile_contexts = parse_list(args.value());
    } else if (arg == "--profile-prefill") {
      o.profile_prefill = parse_list(args.value()).at(0);
    } else if (arg == "--batch") {
      o.batches = parse_list(args.value());
    } else if (arg == "--profile-batch") {
      o.profile_batch = parse_list(args.value()).at(0);
    } else if (arg == "--batch-context") {
      o.batch_context = parse_list(args.value()).at(0);
    } else if (arg == "--verify-costs") {
      o.verify_k = parse_list(args.value());
    } else if (arg == "--verify-context") {
      o.verify_context = parse_list(args.value()).at(0);
    } else if (arg == "--json") {
      o.json_path = args.value();
    } else if (arg == "--seed") {
      o.seed = static_cast<uint64_t>(parse_list(args.value()).at(0));
    } else if (arg == "--threads") {
      o.threads = static_cast<int>(parse_list(args.value()).at(0));
    } else if (arg == "--precision") {
      o.precision = parse_precision(args.value());
    } else {
      throw Error("unknown argument '" + arg + "'", ErrorKind::invalid_request);
    }
  }
  if (!help && o.model.empty() == o.config.empty())
    throw Error("give either --model DIR or --config CONFIG.json (with --load-format dummy)", ErrorKind::invalid_request);
  if (!o.config.empty() && o.format != LoadFormat::dummy)
    throw Error("--config runs random weights: add --load-format dummy", ErrorKind::invalid_request);
  if (o.decode_steps < 1) throw Error("--decode-steps must be at least 1", ErrorKind::invalid_request);
  if (o.profile_batch < 0 || o.profile_batch > 64) throw Error("--profile-batch must be 0..64", ErrorKind::invalid_request);
  for (int64_t n : o.batches) {
    if (n < 1 || n > 64) throw Error("--batch sizes must be 1..64", ErrorKind::invalid_request);
  }
  for (int64_t k : o.verify_k) {
    if (k < 1 || k > kMaxLogitRows) throw Error("--verify-costs: k must be 1.." + std::to_string(kMaxLogitRows), ErrorKind::invalid_request);
  }
  if (o.verify_context < 1) throw Error("--verify-context must be at least 1", ErrorKind::invalid_request);
  return o;
}

int run_bench_engine(int argc, char** argv) {
  bool help = false;
  const Options opt = parse(argc, argv, help);
  if (help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  nlohmann::json out;
  int64_t longest = 1;
  for (int64_t n : opt.prompts) longest = std::max(longest, n);
  for (int64_t n : opt.contexts) longest = std::max(longest, n);
  LoadOptions lo;
  lo.model_dir = opt.model.empty() ? opt.config : opt.model;
  lo.format = opt.format;
  lo.device = opt.device;
  constexpr int64_t kWarmupPrompt = 64, kWarmupSteps = 4;
  lo.max_context = std::max(longest, kWarmupPrompt + kWarmupSteps) + opt.decode_steps + 16;
  lo.threads = opt.threads;
  lo.dummy_seed = opt.seed;
  lo.slots = 1;  // the batch-1 tables measure one sequence; --batch asks for more slots
  std::vector<int64_t> batch_sizes = opt.batches;
  if (opt.profile_batch > 0) batch_sizes.push_back(opt.profile_batch);
  for (int64_t n : batch_sizes) {
    lo.slots = std::max<int32_t>(lo.slots, static_cast<int32_t>(n));
    lo.max_context = std::max(lo.max_context, opt.batch_context + opt.decode_steps + 16);
  }
  if (!opt.verify_k.empty()) lo.max_context = std::max(lo.max_context, opt.verify_context + 2 * opt.decode_steps + 32);
  lo.precision = opt.precision;

  double copy_gbs = 0;
#ifdef HEARTH_HAVE_CUDA
  const bool gpu_present = cuda::device_available() && opt.device != Device::cpu;
  if (gpu_present) {
    copy_gbs = cuda::measure_copy_bandwidth_gbs();
    out["gpu"] = cuda::device_name();
    out["copy_bandwidth_gbs"] = copy_gbs;
    std::printf("GPU: %s, device-to-device copy %.0f GB/s (read + write)\n", cuda::device_name().c_str(), copy_gbs);
  }
#endif
  const auto t_load = std::chrono::steady_clock::now();
  std::unique_ptr<Model> model = load_model(lo);
  const double load_s = seconds_since(t_load);
  auto* qwen = dynamic_cast<Qwen35Model*>(model.get());
  if (!qwen) throw Error("bench-engine: not a Qwen3.5/3.6 model", ErrorKind::unsupported);
  const ModelConfig& cfg = qwen->config();
  const bool on_cuda = qwen->ops().name() == "cuda";  // the precision applies to the CUDA backend only
  const std::string precision = on_cuda ? precision_name(lo.precision) : "float32 (cpu)";
  std::printf("model: %s\nloaded in %.1f s, backend %s, precision %s, max context %lld\n",
              model->info().description.c_str(), load_s, std::string(qwen->ops().name()).c_str(), precision.c_str(),
              static_cast<long long>(lo.max_context));
  out["model"] = model->info().description;
  out["backend"] = std::string(qwen->ops().name());
  out["precision"] = precision;
  out["load_seconds"] = load_s;
  [[maybe_unused]] size_t peak_device = 0;  // sampled on CUDA only
  auto sample_memory = [&] {
#ifdef HEARTH_HAVE_CUDA
    if (gpu_present) peak_device = std::max(peak_device, cuda::device_memory_used());
#endif
  };
  sample_memory();

  std::mt19937_64 rng(opt.seed);
  // Warm-up: first-use costs (kernel loading, workspaces, the decode graph) stay out of the numbers.
  model->reset();
  model->prefill(random_tokens(kWarmupPrompt, cfg.vocab_size, rng));
  decode(*model, kWarmupSteps);

  nlohmann::json prefill_rows = nlohmann::json::array(), decode_rows = nlohmann::json::array();
  // One prefill per length serves both tables: a prompt length is timed, a context length is then decoded.
  std::vector<int64_t> lengths = opt.prompts;
  for (int64_t c : opt.contexts) lengths.push_back(std::max<int64_t>(1, c));
  std::sort(lengths.begin(), lengths.end());
  lengths.erase(std::unique(lengths.begin(), lengths.end()), lengths.end());
  const double ceiling = copy_gbs * 1e9;
  std::printf("\n%-9s %12s %9s | %12s %10s %14s %11s\n", "tokens", "prefill t/s", "TTFT s", "decode t/s", "ms/token",
              "GB read/token", copy_gbs > 0 ? "of copy BW" : "");
  for (int64_t n : lengths) {
    model->reset();
    const auto tokens = random_tokens(n, cfg.vocab_size, rng);
    const auto t0 = std::chrono::steady_clock::now();
    model->prefill(tokens);
    const double s = seconds_since(t0);  // logits are on the host: the first token can be sampled now
    sample_memory();
    const bool timed_prompt = std::count(opt.prompts.begin(), opt.prompts.end(), n) > 0;
    const bool timed_context = std::count(opt.contexts.begin(), opt.contexts.end(), n) > 0 ||
                               (n == 1 && std::count(opt.contexts.begin(), opt.contexts.end(), 0) > 0);
    std::printf("%-9lld ", static_cast<long long>(n));
    if (timed_prompt) {
      std::printf("%12.0f %9.3f | ", static_cast<double>(n) / s, s);
      prefill_rows.push_back({{"prompt", n}, {"tokens_per_s", static_cast<double>(n) / s}, {"ttft_s", s}});
    } else {
      std::printf("%12s %9s | ", "", "");
    }
    if (timed_context) {
      decode(*model, 2);
      const double d = decode(*model, opt.decode_steps);
      sample_memory();
      const double per = d / static_cast<double>(opt.decode_steps);
      const int64_t ctx = n == 1 ? 0 : n;
      const StepBytes b = decode_step_bytes(cfg, qwen->weights(), n + 2 + opt.decode_steps / 2);
      const double frac = ceiling > 0 ? b.total() / per / ceiling : 0;
      std::printf("%12.1f %10.3f %14.3f %10.1f%%", 1.0 / per, per * 1e3, b.total() / 1e9, frac * 100);
      decode_rows.push_back({{"context", ctx},
                             {"tokens_per_s", 1.0 / per},
                             {"ms_per_token", per * 1e3},
                             {"bytes_per_token", b.total()},
                             {"weight_bytes_per_token", b.weights},
                             {"kv_bytes_per_token", b.kv},
                             {"state_bytes_per_token", b.state},
                             {"bandwidth_fraction", frac},
                             {"bandwidth_limit_tokens_per_s", ceiling > 0 ? ceiling / b.total() : 0}});
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  out["prefill"] = prefill_rows;
  out["decode"] = decode_rows;
  if (!opt.batches.empty()) out["batched_decode"] = batched_decode(*model, opt, cfg.vocab_size, rng);
  if (!opt.verify_k.empty()) out["verify_costs"] = verify_costs(*model, opt, cfg.vocab_size, rng);

#ifdef HEARTH_HAVE_CUDA
  if (auto* ops = dynamic_cast<cuda::CudaOps*>(&qwen->ops())) {
    const cuda::MemoryStats ms = ops->memory_stats();
    std::printf("\npeak GPU memory: %.2f GiB on the device (hearth: weights %.2f GiB, buffers %.2f GiB, workspace %.2f GiB)\n",
                static_cast<double>(peak_device) / (1 << 30), static_cast<double>(ms.weights) / (1 << 30),
                static_cast<double>(ms.allocations) / (1 << 30), static_cast<double>(ms.workspace) / (1 << 30));
    out["peak_device_bytes"] = peak_device;
    out["hearth_peak_bytes"] = ms.peak_total;
    if (!opt.profile_contexts.empty()) {
      // Eager steps, one event pair per op: the sum exceeds a graph step by the launch gaps.
      nlohmann::json prof = nlohmann::json::array();
      for (int64_t ctx : opt.profile_contexts) {
        model->reset();
        model->prefill(random_tokens(std::max<int64_t>(1, ctx), cfg.vocab_size, rng));
        ops->set_profiling(true);
        ops->clear_profile();
        const int64_t steps = std::min<int64_t>(opt.decode_steps, 16);
        const double s = decode(*model, steps);
        const auto rows = ops->profile();
        ops->set_profiling(false);
        const std::string title = "an eager decode step at context " + std::to_string(ctx);
        for (auto& row : step_profile(rows, steps, s, title)) {
          row["context"] = ctx;
          prof.push_back(row);
        }
      }
      out["profile"] = prof;
    }
    if (opt.profile_batch > 0) {
      // Eager steps of N sequences decoded together: where the batched step's time goes, per op.
      const int64_t n = opt.profile_batch;
      fill_slots(*model, n, opt.batch_context, cfg.vocab_size, rng);
      ops->set_profiling(true);
      ops->clear_profile();
      const int64_t steps = std::min<int64_t>(opt.decode_steps, 16);
      const double s = batched_steps(*model, n, steps);
      const auto rows = ops->profile();
      ops->set_profiling(false);
      const std::string title = "an eager step of " + std::to_string(n) + " sequences at context " + std::to_string(opt.batch_context);
      out["batch_profile"] = {{"sequences", n}, {"context", opt.batch_context}, {"ops", step_profile(rows, steps, s, title)}};
    }
    if (opt.profile_prefill > 0) {
      // One eager prefill with an event pair around every op: where prefill time goes, per op and shape.
      model->reset();
      const auto tokens = random_tokens(opt.profile_prefill, cfg.vocab_size, rng);
      ops->set_profiling(true);
      ops->clear_profile();
      const auto start = std::chrono::steady_clock::now();
      model->prefill(tokens);
      const auto rows = ops->profile();
      const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      ops->set_profiling(false);
      double total = 0;
      for (const auto& r : rows) total += r.total_ms;
      std::printf("\nper-op GPU time of a prefill of %lld tokens (%.1f ms of GPU time, %.1f ms wall):\n",
                  static_cast<long long>(opt.profile_prefill), total, wall * 1e3);
      nlohmann::json prof = nlohmann::json::array();
      for (const auto& r : rows) {
        if (r.total_ms < 0.01) continue;
        std::printf("  %9.3f ms %5.1f%% %6lld calls  %s\n", r.total_ms, 100.0 * r.total_ms / total,
                    static_cast<long long>(r.calls), r.label.c_str());
        prof.push_back({{"op", r.label}, {"ms", r.total_ms}, {"calls", r.calls}});
      }
      out["prefill_profile"] = prof;
    }
  }
#endif
  if (!opt.json_path.empty()) {
    std::ofstream f(opt.json_path);
    if (!f) throw Error("cannot write " + opt.json_path, ErrorKind::io);
    f << out.dump(1) << "\n";
  }
  return 0;
}

const hearth::app::CommandRegistration kRegistration{"bench-engine", "Measure prefill/decode speed of a model",
                                                     run_bench_engine};

}  // namespace
