#include "engine/cuda/device_probe.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <vector>

#include "engine/cuda/common/cuda_check.h"

namespace hearth::engine::cuda {

std::string device_name() {
  int dev = 0;
  HEARTH_CUDA_CHECK(cudaGetDevice(&dev));
  cudaDeviceProp prop{};
  HEARTH_CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
  return prop.name;
}

size_t device_memory_total() {
  size_t free_b = 0, total_b = 0;
  HEARTH_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
  return total_b;
}

size_t device_memory_used() {
  size_t free_b = 0, total_b = 0;
  HEARTH_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
  return total_b - free_b;
}

double measure_copy_bandwidth_gbs(size_t bytes) {
  void *a = nullptr, *b = nullptr;
  HEARTH_CUDA_CHECK(cudaMalloc(&a, bytes));
  HEARTH_CUDA_CHECK(cudaMalloc(&b, bytes));
  HEARTH_CUDA_CHECK(cudaMemset(a, 1, bytes));
  cudaEvent_t start, stop;
  HEARTH_CUDA_CHECK(cudaEventCreate(&start));
  HEARTH_CUDA_CHECK(cudaEventCreate(&stop));
  std::vector<float> ms;
  for (int i = 0; i < 12; ++i) {
    HEARTH_CUDA_CHECK(cudaEventRecord(start));
    HEARTH_CUDA_CHECK(cudaMemcpyAsync(i % 2 ? a : b, i % 2 ? b : a, bytes, cudaMemcpyDeviceToDevice));
    HEARTH_CUDA_CHECK(cudaEventRecord(stop));
    HEARTH_CUDA_CHECK(cudaEventSynchronize(stop));
    float t = 0;
    HEARTH_CUDA_CHECK(cudaEventElapsedTime(&t, start, stop));
    if (i >= 2) ms.push_back(t);  // two warm-up copies
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  cudaFree(a);
  cudaFree(b);
  std::sort(ms.begin(), ms.end());
  const double median_s = ms[ms.size() / 2] / 1e3;
  return 2.0 * static_cast<double>(bytes) / median_s / 1e9;
}

}  // namespace hearth::engine::cuda
