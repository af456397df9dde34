// Decode attention speed on the GPU (Google Benchmark with manual time from CUDA events; not a test):
// one decode step's attention over the 10 full-attention layers of the Qwen3.6-35B-A3B shape (16 query
// heads, 2 KV heads, head_dim 256, float32 KV), each layer its own cache so that nothing is served from
// L2, at contexts of 1k, 8k and 32k in caches of 40k rows. Reports ms per step and the achieved
// bandwidth over the K and V bytes read.
// Run: engine_cuda_attention_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include <cmath>
#include <memory>
#include <vector>

#include "engine/cuda/cuda_ops.h"
#include "engine/cuda/random_fill.h"

namespace hearth::engine::cuda {
namespace {

constexpr int64_t kLayers = 10, kHeads = 16, kKvHeads = 2, kDim = 256, kCapacity = 40960;

void BM_DecodeAttention35bLayout(benchmark::State& state) {
  if (!device_available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  const int64_t context = state.range(0), n = state.range(1);
  CudaOps gpu;
  const int64_t W = kKvHeads * kDim, Q = kHeads * kDim;
  std::vector<float*> k(kLayers), v(kLayers);
  for (int64_t l = 0; l < kLayers; ++l) {
    k[l] = static_cast<float*>(gpu.alloc(kCapacity * W * 4));
    v[l] = static_cast<float*>(gpu.alloc(kCapacity * W * 4));
    launch_fill_floats(k[l], kCapacity * W, 0.01f * static_cast<float>(l + 1), gpu.stream());
    launch_fill_floats(v[l], kCapacity * W, 0.5f, gpu.stream());
  }
  auto* q = static_cast<float*>(gpu.alloc(n * Q * 4));
  auto* out = static_cast<float*>(gpu.alloc(n * Q * 4));
  launch_fill_floats(q, n * Q, 0.1f, gpu.stream());
  auto* pos = static_cast<int64_t*>(gpu.alloc(8));
  const int64_t first = context - n;
  gpu.upload(pos, &first, 8);
  const auto step = [&] {
    for (int64_t l = 0; l < kLayers; ++l)
      gpu.attention({Tensor{q, n, Q, Q}, Tensor{k[l], kCapacity, W, W}, Tensor{v[l], kCapacity, W, W}, 0, kHeads, kKvHeads,
                     kDim, 1.0f / 16.0f, Tensor{out, n, Q, Q}, pos});
  };
  step();  // workspace and shared-memory attributes before recording
  // Replayed as a graph, as the decode step runs (eager launches would time the host at short contexts).
  gpu.begin_recording();
  step();
  const std::unique_ptr<RecordedOps> graph = gpu.end_recording();
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  for (auto _ : state) {
    cudaEventRecord(start, gpu.stream());
    graph->replay();
    cudaEventRecord(stop, gpu.stream());
    cudaEventSynchronize(stop);
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    state.SetIterationTime(ms / 1e3);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  const double bytes = static_cast<double>(kLayers) * context * W * 4 * 2;
  state.SetBytesProcessed(static_cast<int64_t>(bytes) * state.iterations());
  state.counters["ms_per_step"] = benchmark::Counter(1e3 * static_cast<double>(state.iterations()),
                                                     benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["TB/s"] = benchmark::Counter(bytes / 1e12 * static_cast<double>(state.iterations()),
                                              benchmark::Counter::kIsRate);
  for (int64_t l = 0; l < kLayers; ++l) gpu.release(k[l]), gpu.release(v[l]);
  gpu.release(q), gpu.release(out), gpu.release(pos);
}
BENCHMARK(BM_DecodeAttention35bLayout)
    ->ArgNames({"context", "n"})
    ->Args({1024, 1})
    ->Args({8192, 1})
    ->Args({32768, 1})
    ->Args({32768, 4})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace hearth::engine::cuda

BENCHMARK_MAIN();
