#pragma once
// The main() of the GPU micro-benchmarks that register their cases at run time (names built from the
// shapes they time): without a device they say so and succeed, so a build without a GPU can run them.
#include <benchmark/benchmark.h>

#include <cstdio>

#include "engine/cuda/cuda_ops.h"

namespace hearth::engine::cuda {

inline int run_gpu_benchmarks(int argc, char** argv, void (*register_cases)()) {
  if (!device_available()) {
    std::printf("no CUDA device\n");
    return 0;
  }
  register_cases();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace hearth::engine::cuda
