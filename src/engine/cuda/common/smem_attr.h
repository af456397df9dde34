#pragma once
// Raising a kernel's dynamic shared-memory limit (needed past 48 KB), once per kernel and size.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <mutex>
#include <unordered_map>

#include "engine/cuda/common/cuda_check.h"

namespace hearth::engine::cuda {

// Keyed by the kernel's address (instantiations of one template share a function type, so a static
// per type would not do). cudaFuncSetAttribute is a host-side call, legal during stream capture.
inline void ensure_dynamic_smem(const void* kernel, size_t bytes) {
  if (bytes <= 48 * 1024) return;
  static std::mutex mutex;
  static std::unordered_map<const void*, size_t> raised;
  std::lock_guard<std::mutex> lock(mutex);
  size_t& mark = raised[kernel];
  if (bytes <= mark) return;
  HEARTH_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)));
  mark = bytes;
}

}  // namespace hearth::engine::cuda
