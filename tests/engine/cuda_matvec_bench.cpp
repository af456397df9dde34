// GPU micro-benchmark of the decode matrix-vector kernels per model shape: the streaming kernel
// (matvec_stream.cu, "st"), the tensor-core kernel (matvec_tc.cu, "tc") and the CUDA-core kernel
// (matvec.cu, "cc") on the same random weights, and the four DeltaNet input projections as one fused
// launch. Time from CUDA events around one replay of a graph of `kLaunches` launches (UseManualTime);
// counters: bytes of W (+ scales and biases) per launch and TB/s = bytes / time. Each launch reads a
// different copy of the matrix (weight_copies), so the figures are HBM, not L2, rates.
//
//   engine_cuda_matvec_bench [--benchmark_filter=...]
// Compare against the device's copy bandwidth (~3.0 TB/s on H100 SXM, docs/PERFORMANCE.md).
#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <functional>
#include <map>
#include <tuple>
#include <string>
#include <vector>

#include "engine/cuda/cuda_ops.h"
#include "engine/cuda/matvec/matvec.h"
#include "engine/cuda/matvec/matvec_variants.h"
#include "engine/cuda/random_fill.h"
#include "cuda_bench_main.h"

namespace hearth::engine::cuda {
namespace {

constexpr int kLaunches = 20;

enum class Kernel { streaming, tensor_core, cuda_core };

struct Shape {
  int64_t rows, cols;
  int bits;
};


CudaOps& ops() {
  static CudaOps* o = [] {
    CudaOptions opt;
    opt.random_weights = true;
    return new CudaOps(opt);
  }();
  return *o;
}

float* device_floats(size_t count) {
  float* p = static_cast<float*>(ops().alloc(count * sizeof(float)));
  launch_fill_floats(p, static_cast<int64_t>(count), 0.5f, ops().stream());
  return p;
}

void time_launches(benchmark::State& state, size_t bytes, const std::function<void()>& launch) {
  cudaStream_t stream = ops().stream();
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  launch();  // warm-up (smem attributes, occupancy queries, first-touch)
  cudaStreamSynchronize(stream);
  // The kLaunches launches replay as one CUDA graph, as a decode step does: the figures are GPU time,
  // not the host's launch rate (which bounds eager launches of small kernels at a few µs each).
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal);
  for (int i = 0; i < kLaunches; ++i) launch();
  cudaStreamEndCapture(stream, &graph);
  if (graph == nullptr || cudaGraphInstantiate(&exec, graph, 0) != cudaSuccess) {
    state.SkipWithError("graph capture failed");
    return;
  }
  cudaGraphLaunch(exec, stream);  // warm-up of the graph itself
  cudaStreamSynchronize(stream);
  for (auto _ : state) {
    cudaEventRecord(start, stream);
    cudaGraphLaunch(exec, stream);
    cudaEventRecord(stop, stream);
    cudaEventSynchronize(stop);
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    state.SetIterationTime(ms / 1e3 / kLaunches);
  }
  state.counters["MB"] = static_cast<double>(bytes) / 1e6;
  state.counters["TB/s"] = benchmark::Counter(static_cast<double>(bytes) * state.iterations() / 1e12,
                                              benchmark::Counter::kIsRate);
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
}

// Enough copies of a matrix that cycling through them reads at least 160 MB per cycle: more than the
// 50 MB L2, so every launch streams its matrix from HBM as in a decode step (where the step's other
// matrices evict it). Shared by the benchmarks of one shape.
const std::vector<WeightMatrix>& weight_copies(const Shape& s) {
  static std::map<std::tuple<int64_t, int64_t, int>, std::vector<WeightMatrix>> cache;
  auto& copies = cache[{s.rows, s.cols, s.bits}];
  if (copies.empty()) {
    copies.push_back(dummy_affine_weight(ops(), s.rows, s.cols, s.bits));
    const size_t bytes = affine_weight_bytes(copies[0]);
    while (copies.size() * bytes < (size_t{160} << 20)) copies.push_back(dummy_affine_weight(ops(), s.rows, s.cols, s.bits));
  }
  return copies;
}

void BM_Matvec(benchmark::State& state, Shape shape, Kernel kernel, int64_t n) {
  const std::vector<WeightMatrix>& copies = weight_copies(shape);
  const WeightMatrix& w = copies[0];
  size_t next = 0;
  float* x = device_floats(static_cast<size_t>(n * shape.cols));
  float* y = device_floats(static_cast<size_t>(n * shape.rows));
  MatmulLaunch p;
  p.w = w;
  p.x = x;
  p.x_stride = shape.cols;
  p.y = y;
  p.y_stride = shape.rows;
  p.n = n;
  if (!matvec_tc_covers(w)) {
    state.SkipWithError("the tensor-core kernel does not cover this matrix");
    return;
  }
  time_launches(state, affine_weight_bytes(w), [&] {
    p.w = copies[next++ % copies.size()];
    if (kernel != Kernel::cuda_core) {
      StageInput in;
      in.x = p.x;
      in.x_stride = p.x_stride;
      in.cols = shape.cols;
      in.n = n;
      MatvecJob job;
      job.w = p.w;
      job.y = p.y;
      job.y_stride = p.y_stride;
      if (kernel == Kernel::streaming) {
        launch_matvec_stream(in, &job, 1, ops().stream());
      } else {
        launch_matvec_tc(in, &job, 1, ops().stream());
      }
    } else {
      launch_matvec_cuda_core(p, ops().stream());
    }
  });
  ops().release(x);
  ops().release(y);
}

// The four Gated DeltaNet input projections of 35B-A3B (qkv 8192, z 4096, b 32, a 32 rows over 2048)
// with the input RMSNorm: one launch against four CUDA-core launches (plain input).
void BM_DeltaNetInputs(benchmark::State& state, bool fused, Kernel kernel) {
  const int64_t rows[4] = {8192, 4096, 32, 32};
  const std::vector<WeightMatrix>* copies[4];
  std::vector<float*> ys;
  size_t bytes = 0, next = 0;
  for (int j = 0; j < 4; ++j) {
    copies[j] = &weight_copies({rows[j], 2048, 4});
    ys.push_back(device_floats(static_cast<size_t>(rows[j])));
    bytes += affine_weight_bytes((*copies[j])[0]);
  }
  WeightMatrix ws[4];
  float* x = device_floats(2048);
  float* norm = device_floats(2048);
  time_launches(state, bytes, [&] {
    for (int j = 0; j < 4; ++j) ws[j] = (*copies[j])[next % copies[j]->size()];
    ++next;
    if (fused) {
      StageInput in;
      in.x = x;
      in.x_stride = 2048;
      in.cols = 2048;
      in.n = 1;
      in.transform = StageTransform::rms_norm;
      in.norm_weight = norm;
      MatvecJob jobs[4];
      for (int j = 0; j < 4; ++j) {
        jobs[j].w = ws[j];
        jobs[j].y = ys[j];
        jobs[j].y_stride = rows[j];
      }
      if (kernel == Kernel::streaming) {
        launch_matvec_stream(in, jobs, 4, ops().stream());
      } else {
        launch_matvec_tc(in, jobs, 4, ops().stream());
      }
    } else {
      for (int j = 0; j < 4; ++j) {
        MatmulLaunch p;
        p.w = ws[j];
        p.x = x;
        p.x_stride = 2048;
        p.y = ys[j];
        p.y_stride = rows[j];
        p.n = 1;
        launch_matvec_cuda_core(p, ops().stream());
      }
    }
  });
  for (float* y : ys) ops().release(y);
  ops().release(x);
  ops().release(norm);
}

void register_all() {
  const Shape shapes[] = {
      {8192, 2048, 4}, {4096, 2048, 4},  {32, 2048, 4},     {2048, 4096, 4},   {512, 2048, 4},    {2048, 512, 4},
      {256, 2048, 8},  {17408, 5120, 4}, {5120, 17408, 4},  {10240, 5120, 4},  {5120, 6144, 4},   {248320, 2048, 4}};
  for (const Shape& s : shapes)
    for (int64_t n : {1, 2, 8})
      for (Kernel k : {Kernel::cuda_core, Kernel::tensor_core, Kernel::streaming}) {
        if (n != 1 && s.rows == 248320) continue;
        if (n == 2 && k == Kernel::cuda_core) continue;
        const char* kname = k == Kernel::tensor_core ? "tc" : (k == Kernel::streaming ? "st" : "cc");
        const std::string name = std::string("matvec/") + kname + "/" + std::to_string(s.rows) + "x" +
                                 std::to_string(s.cols) + "/" + std::to_string(s.bits) + "bit/n" + std::to_string(n);
        benchmark::RegisterBenchmark(name.c_str(), BM_Matvec, s, k, n)->UseManualTime()->Unit(benchmark::kMicrosecond);
      }
  benchmark::RegisterBenchmark("deltanet_inputs/4_launches_cc", BM_DeltaNetInputs, false, Kernel::cuda_core)
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("deltanet_inputs/1_launch_tc_rmsnorm", BM_DeltaNetInputs, true, Kernel::tensor_core)
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("deltanet_inputs/1_launch_st_rmsnorm", BM_DeltaNetInputs, true, Kernel::streaming)
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);
}

}  // namespace
}  // namespace hearth::engine::cuda

int main(int argc, char** argv) {
  return hearth::engine::cuda::run_gpu_benchmarks(argc, argv, hearth::engine::cuda::register_all);
}
