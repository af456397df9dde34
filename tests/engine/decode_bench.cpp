// CPU decode speed: tokens/s of one decode step for the tiny test models and for dummy-weight models
// of the real Qwen3.6 shapes (35B-A3B and 27B at MLX 4-bit), plus matrix-vector bandwidth per weight
// format. Run: build/tests/engine/engine_decode_bench [--benchmark_filter=...]
// HEARTH_BENCH_LAYERS=N limits the real shapes to their first N layers (same widths) on small machines.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "engine/cpu/cpu_ops.h"
#include "engine/loader.h"

namespace hearth::engine {
namespace {

namespace fs = std::filesystem;

int bench_threads() {
  const char* t = std::getenv("HEARTH_BENCH_THREADS");
  return t ? std::atoi(t) : 0;
}

void run_decode(benchmark::State& state, const fs::path& dir, LoadFormat format) {
  LoadOptions o;
  o.model_dir = dir;
  o.format = format;
  o.max_context = 4096;
  o.threads = bench_threads();
  auto model = load_model(o);
  std::vector<Token> prompt(32);
  std::mt19937 rng(1);
  for (auto& t : prompt) t = static_cast<Token>(rng() % model->info().vocab_size);
  model->prefill(prompt);
  Token t = 1;
  for (auto _ : state) {
    if (model->position() + 1 >= o.max_context) {
      state.PauseTiming();
      model->reset();
      model->prefill(prompt);
      state.ResumeTiming();
    }
    model->prefill(std::span(&t, 1));
    benchmark::DoNotOptimize(model->logits().data());
    t = static_cast<Token>((t * 7919 + 13) % model->info().vocab_size);
  }
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.SetLabel(model->info().description);
}

const char* kTiny[] = {"dense-hf-bf16", "moe-hf-bf16-sharded", "dense-mlx-affine4-g64", "moe-mlx-affine4-g64",
                       "moe-mlx-mxfp4", "moe-mlx-nvfp4", "qwen3-hf-bf16"};

nlohmann::json real_shape(const std::string& which) {
  nlohmann::json text = {{"model_type", "qwen3_5_moe_text"}, {"hidden_size", 2048}, {"num_hidden_layers", 40},
                         {"num_attention_heads", 16}, {"num_key_value_heads", 2}, {"head_dim", 256},
                         {"linear_num_key_heads", 16}, {"linear_num_value_heads", 32}, {"linear_key_head_dim", 128},
                         {"linear_value_head_dim", 128}, {"linear_conv_kernel_dim", 4}, {"full_attention_interval", 4},
                         {"vocab_size", 248320}, {"num_experts", 256}, {"num_experts_per_tok", 8},
                         {"moe_intermediate_size", 512}, {"shared_expert_intermediate_size", 512},
                         {"rope_parameters", {{"rope_type", "default"}, {"rope_theta", 1e7}, {"partial_rotary_factor", 0.25}}}};
  std::string type = "qwen3_5_moe";
  if (which == "27B") {
    text = {{"model_type", "qwen3_5_text"}, {"hidden_size", 5120}, {"num_hidden_layers", 64}, {"num_attention_heads", 24},
            {"num_key_value_heads", 4}, {"head_dim", 256}, {"linear_num_key_heads", 16}, {"linear_num_value_heads", 48},
            {"linear_key_head_dim", 128}, {"linear_value_head_dim", 128}, {"linear_conv_kernel_dim", 4},
            {"full_attention_interval", 4}, {"vocab_size", 248320}, {"intermediate_size", 17408},
            {"rope_parameters", {{"rope_type", "default"}, {"rope_theta", 1e7}, {"partial_rotary_factor", 0.25}}}};
    type = "qwen3_5";
  }
  if (const char* layers = std::getenv("HEARTH_BENCH_LAYERS")) text["num_hidden_layers"] = std::atoi(layers);
  return {{"model_type", type}, {"text_config", text}, {"quantization", {{"group_size", 64}, {"bits", 4}}}};
}

void register_all() {
  for (const char* name : kTiny) {
    const fs::path dir = fs::path(HEARTH_TESTDATA_DIR) / "tiny" / name;
    benchmark::RegisterBenchmark((std::string("BM_DecodeTiny/") + name).c_str(),
                                 [dir](benchmark::State& s) { run_decode(s, dir, LoadFormat::safetensors); })
        ->Unit(benchmark::kMillisecond)->UseRealTime();
  }
  for (const char* shape : {"35B-A3B", "27B"}) {
    const fs::path dir = fs::temp_directory_path() / ("hearth-bench-" + std::string(shape));
    fs::create_directories(dir);
    std::ofstream(dir / "config.json") << real_shape(shape).dump();
    benchmark::RegisterBenchmark((std::string("BM_DecodeDummy4bit/") + shape).c_str(),
                                 [dir](benchmark::State& s) { run_decode(s, dir, LoadFormat::dummy); })
        ->Unit(benchmark::kMillisecond)
        ->MinTime(2.0)->UseRealTime();
  }
}

// Matrix-vector product [4096 × 4096] per format: bytes of weights streamed per second.
void BM_Matvec(benchmark::State& state) {
  const auto format = static_cast<WeightFormat>(state.range(0));
  const int64_t rows = 4096, cols = 4096;
  WeightMatrix m;
  m.format = format;
  m.rows = rows;
  m.cols = cols;
  m.dtype = format == WeightFormat::dense || format == WeightFormat::affine ? DType::bf16 : DType::u8;
  m.bits = format == WeightFormat::dense ? 0 : (format == WeightFormat::mxfp8 ? 8 : 4);
  m.group_size = format == WeightFormat::nvfp4 ? 16 : (format == WeightFormat::affine ? 64 : 32);
  std::vector<uint8_t> data(m.data_bytes(), 0x11), scales(m.scales_row_bytes() * rows + 1, 0x3c), biases(scales.size(), 0);
  m.data = data.data();
  m.scales = scales.data();
  m.biases = biases.data();
  std::vector<float> x(cols, 0.5f), y(rows);
  cpu::CpuOps ops(bench_threads());
  for (auto _ : state) {
    ops.matmul({&m, Tensor::contiguous(x.data(), 1, cols), Tensor::contiguous(y.data(), 1, rows), false});
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(data.size() + scales.size() * (format == WeightFormat::affine ? 2 : 1)));
  state.SetLabel(m.describe());
}
BENCHMARK(BM_Matvec)
    ->Arg(static_cast<int>(WeightFormat::dense))
    ->Arg(static_cast<int>(WeightFormat::affine))
    ->Arg(static_cast<int>(WeightFormat::mxfp4))
    ->Arg(static_cast<int>(WeightFormat::nvfp4))
    ->UseRealTime();

}  // namespace
}  // namespace hearth::engine

int main(int argc, char** argv) {
  hearth::engine::register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
