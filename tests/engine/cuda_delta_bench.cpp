// GPU time of one Gated DeltaNet layer's delta rule at prefill: the chunked kernels against the
// token-by-token recurrence, n tokens × v_heads value heads (Dk = Dv = 128), cudaEvents around each call
// (UseManualTime). Run on the GPU machine: engine_cuda_delta_bench [--benchmark_filter=...].
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "engine/cuda/cuda_ops.h"
#include "engine/cuda/delta/delta.h"

namespace hearth::engine::cuda {
namespace {

// chunked: the walk launch_delta_rule_chunked picks (tensor cores here); chunked_general: the walk for
// unaligned rows (CUDA cores).
enum class Form { chunked, chunked_general, recurrent };

// Random inputs of one layer on the device (q | k | v as column slices of one buffer, as in the model).
class LayerInputs {
 public:
  LayerInputs(CudaOps& ops, int64_t n, int k_heads, int v_heads) : ops_(ops) {
    const int64_t D = 128, kd = k_heads * D, vd = v_heads * D, cols = 2 * kd + vd;
    std::mt19937 rng(5);
    const auto fill = [&](size_t count, float lo, float hi) {
      std::uniform_real_distribution<float> dist(lo, hi);
      std::vector<float> host(count);
      for (auto& x : host) x = dist(rng);
      float* dev = static_cast<float*>(ops.alloc(count * 4));
      ops.upload(dev, host.data(), count * 4);
      buffers_.push_back(dev);
      return dev;
    };
    float* qkv = fill(static_cast<size_t>(n * cols), -1, 1);
    l.q = qkv, l.k = qkv + kd, l.v = qkv + 2 * kd, l.q_stride = l.k_stride = l.v_stride = cols;
    l.g = fill(static_cast<size_t>(n * v_heads), -1, 0), l.beta = fill(static_cast<size_t>(n * v_heads), 0, 1);
    l.g_stride = l.beta_stride = v_heads;
    l.state = fill(static_cast<size_t>(v_heads * D * D), -0.5f, 0.5f);
    l.out = fill(static_cast<size_t>(n * vd), 0, 0), l.out_stride = vd;
    l.n = n, l.k_heads = k_heads, l.v_heads = v_heads, l.dk = l.dv = static_cast<int>(D);
    workspace = fill(delta_chunked_workspace_bytes(n, v_heads) / 4, 0, 0);
  }
  ~LayerInputs() {
    for (float* b : buffers_) ops_.release(b);
  }
  DeltaRuleLaunch l;
  float* workspace = nullptr;

 private:
  CudaOps& ops_;
  std::vector<float*> buffers_;
};

void BM_DeltaRule(benchmark::State& state, Form form, int k_heads, int v_heads) {
  if (!device_available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  CudaOps ops;
  LayerInputs in(ops, state.range(0), k_heads, v_heads);
  const auto run = [&] {
    switch (form) {
      case Form::chunked: launch_delta_rule_chunked(in.l, in.workspace, ops.stream()); break;
      case Form::chunked_general: launch_delta_rule_chunked(in.l, in.workspace, ops.stream(), DeltaWalk::general); break;
      case Form::recurrent: launch_delta_rule_recurrent(in.l, ops.stream()); break;
    }
  };
  run();  // warm-up: first-launch costs, smem attributes
  ops.synchronize();
  cudaEvent_t begin, end;
  cudaEventCreate(&begin);
  cudaEventCreate(&end);
  for (auto _ : state) {
    cudaEventRecord(begin, ops.stream());
    run();
    cudaEventRecord(end, ops.stream());
    cudaEventSynchronize(end);
    float ms = 0;
    cudaEventElapsedTime(&ms, begin, end);
    state.SetIterationTime(ms / 1000.0);
  }
  cudaEventDestroy(begin);
  cudaEventDestroy(end);
  state.SetItemsProcessed(state.iterations() * state.range(0));  // tokens per second of one layer
}

// 35B-A3B (16 key, 32 value heads) and 27B (16 key, 48 value heads), at the CUDA prefill chunk (1024),
// a long prefill chunk (4096) and a short prompt.
BENCHMARK_CAPTURE(BM_DeltaRule, chunked_35b, Form::chunked, 16, 32)->Arg(4096)->Arg(1024)->Arg(128)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_DeltaRule, recurrent_35b, Form::recurrent, 16, 32)->Arg(1024)->Arg(128)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_DeltaRule, chunked_27b, Form::chunked, 16, 48)->Arg(4096)->Arg(1024)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_DeltaRule, chunked_general_27b, Form::chunked_general, 16, 48)->Arg(4096)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_DeltaRule, recurrent_27b, Form::recurrent, 16, 48)->Arg(1024)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace hearth::engine::cuda

BENCHMARK_MAIN();
