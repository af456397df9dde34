// GPU benchmark of the prefill matrix products per model shape, Precision::fast against
// Precision::exact, through CudaOps (so the fast path's dispatch, bf16 copies and cuBLAS call are all
// timed): dense [rows, cols] × n tokens (4-bit g64, as the benchmark shapes store them), and the
// routed experts of one 35B-A3B MoE layer (256 experts, top-8, [512, 2048] gate/up, [2048, 512] down).
// Time from CUDA events around kLaunches ops (UseManualTime); counter TFLOP/s = 2·rows·cols·n / time
// (MoE: 3 products per routed pair).
//
// moe35b/fast_general_kernel/nN times Precision::fast through the general grouped kernel
// (CudaOptions::moe_prefill_kernel = general), the baseline of the tensor-core MoE kernels (moe_gemm_fast.cu).
//
//   engine_cuda_gemm_bench [--benchmark_filter=...]
// Compare against ~790 TFLOP/s (cuBLAS bf16 on H100, docs/PERFORMANCE.md).
#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdlib>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "engine/cuda/cuda_ops.h"
#include "engine/cuda/random_fill.h"
#include "cuda_bench_main.h"

namespace hearth::engine::cuda {
namespace {

constexpr int kLaunches = 5;

// One CudaOps per (precision, MoE prefill kernel), made on first use.
CudaOps& ops(Precision p, MoePrefillKernel moe_kernel = MoePrefillKernel::fast) {
  static CudaOps* o[2][2] = {{nullptr, nullptr}, {nullptr, nullptr}};
  CudaOps*& slot = o[p == Precision::fast ? 0 : 1][moe_kernel == MoePrefillKernel::fast ? 0 : 1];
  if (!slot) {
    CudaOptions opt;
    opt.random_weights = true;
    opt.precision = p;
    opt.moe_prefill_kernel = moe_kernel;
    slot = new CudaOps(opt);
  }
  return *slot;
}

WeightMatrix dummy_weight(CudaOps& o, int64_t rows, int64_t cols) { return dummy_affine_weight(o, rows, cols, 4); }

float* device_floats(CudaOps& o, size_t count, float value) {
  float* p = static_cast<float*>(o.alloc(count * sizeof(float)));
  launch_fill_floats(p, static_cast<int64_t>(count), value, o.stream());
  return p;
}

void time_ops(benchmark::State& state, CudaOps& o, double flops, const std::function<void()>& run) {
  cudaStream_t stream = o.stream();
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  run();  // warm-up: workspace growth, cuBLAS heuristics, expert tables
  cudaStreamSynchronize(stream);
  for (auto _ : state) {
    cudaEventRecord(start, stream);
    for (int i = 0; i < kLaunches; ++i) run();
    cudaEventRecord(stop, stream);
    cudaEventSynchronize(stop);
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    state.SetIterationTime(ms / 1e3 / kLaunches);
  }
  state.counters["TFLOP/s"] = benchmark::Counter(flops * state.iterations() / 1e12, benchmark::Counter::kIsRate);
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
}

void BM_Dense(benchmark::State& state, Precision p, int64_t rows, int64_t cols, int64_t n) {
  CudaOps& o = ops(p);
  const WeightMatrix w = dummy_weight(o, rows, cols);
  float* x = device_floats(o, static_cast<size_t>(n * cols), 0.01f);
  float* y = device_floats(o, static_cast<size_t>(n * rows), 0.0f);
  time_ops(state, o, 2.0 * static_cast<double>(rows * cols) * static_cast<double>(n),
           [&] { o.matmul({&w, Tensor{x, n, cols, cols}, Tensor{y, n, rows, rows}, false}); });
  o.release(x);
  o.release(y);
}

void BM_Moe(benchmark::State& state, Precision p, int64_t n, bool general_kernel) {
  // general_kernel: Precision::fast through the general grouped kernel, the baseline of the
  // tensor-core kernels of moe_gemm_fast.cu.
  constexpr int64_t kExperts = 256, kTopK = 8, kHidden = 2048, kInter = 512;
  CudaOps& o = ops(p, general_kernel ? MoePrefillKernel::general : MoePrefillKernel::fast);
  WeightStack gate, up, down;
  for (int64_t e = 0; e < kExperts; ++e) {
    gate.experts.push_back(dummy_weight(o, kInter, kHidden));
    up.experts.push_back(dummy_weight(o, kInter, kHidden));
    down.experts.push_back(dummy_weight(o, kHidden, kInter));
  }
  // Distinct experts per token, uniformly at random (a router's choice on random inputs).
  std::mt19937 rng(7);
  std::vector<int32_t> idx(static_cast<size_t>(n * kTopK));
  for (int64_t t = 0; t < n; ++t) {
    std::vector<int32_t> all(kExperts);
    for (int32_t e = 0; e < kExperts; ++e) all[static_cast<size_t>(e)] = e;
    std::shuffle(all.begin(), all.end(), rng);
    for (int64_t j = 0; j < kTopK; ++j) idx[static_cast<size_t>(t * kTopK + j)] = all[static_cast<size_t>(j)];
  }
  auto* di = static_cast<int32_t*>(o.alloc(idx.size() * sizeof(int32_t)));
  o.upload(di, idx.data(), idx.size() * sizeof(int32_t));
  float* weights = device_floats(o, idx.size(), 1.0f / kTopK);
  float* x = device_floats(o, static_cast<size_t>(n * kHidden), 0.01f);
  float* out = device_floats(o, static_cast<size_t>(n * kHidden), 0.0f);
  const double flops = 2.0 * 3.0 * static_cast<double>(kInter * kHidden) * static_cast<double>(n * kTopK);
  time_ops(state, o, flops, [&] {
    o.moe({Tensor{x, n, kHidden, kHidden}, &gate, &up, &down, di, weights, kTopK, Tensor{out, n, kHidden, kHidden}});
  });
  o.release(di);
  o.release(weights);
  o.release(x);
  o.release(out);
}

void register_all() {
  struct Shape {
    int64_t rows, cols;
  };
  // 27B: MLP gate/up, MLP down, attention-sized; 35B-A3B: DeltaNet qkv, shared expert.
  const Shape shapes[] = {{17408, 5120}, {5120, 17408}, {10240, 5120}, {8192, 2048}, {512, 2048}};
  for (const Precision p : {Precision::exact, Precision::fast})
    for (const Shape& s : shapes)
      for (const int64_t n : {int64_t{512}, int64_t{4096}}) {
        const std::string name = std::string("dense/") + (p == Precision::fast ? "fast/" : "exact/") +
                                 std::to_string(s.rows) + "x" + std::to_string(s.cols) + "/n" + std::to_string(n);
        benchmark::RegisterBenchmark(name.c_str(), BM_Dense, p, s.rows, s.cols, n)
            ->UseManualTime()
            ->Unit(benchmark::kMillisecond);
      }
  for (const Precision p : {Precision::exact, Precision::fast})
    for (const int64_t n : {int64_t{1024}, int64_t{4096}}) {
      const std::string name = std::string("moe35b/") + (p == Precision::fast ? "fast" : "exact") + "/n" + std::to_string(n);
      benchmark::RegisterBenchmark(name.c_str(), BM_Moe, p, n, false)->UseManualTime()->Unit(benchmark::kMillisecond);
    }
  for (const int64_t n : {int64_t{1024}, int64_t{4096}}) {
    const std::string name = "moe35b/fast_general_kernel/n" + std::to_string(n);
    benchmark::RegisterBenchmark(name.c_str(), BM_Moe, Precision::fast, n, true)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace
}  // namespace hearth::engine::cuda

int main(int argc, char** argv) {
  return hearth::engine::cuda::run_gpu_benchmarks(argc, argv, hearth::engine::cuda::register_all);
}
