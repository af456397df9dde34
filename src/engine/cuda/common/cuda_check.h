#pragma once
// Host-side error checking for CUDA runtime calls: every failure becomes a hearth::Error that names the
// call and the runtime's message, so a bad launch or an out-of-memory never passes silently.
#include <cuda_runtime_api.h>

#include <string>

#include "util/error.h"

namespace hearth::engine::cuda {

[[noreturn]] inline void throw_cuda_error(cudaError_t err, const char* what, const char* file, int line) {
  throw Error(std::string("CUDA error in ") + what + " (" + file + ":" + std::to_string(line) +
                  "): " + cudaGetErrorName(err) + ": " + cudaGetErrorString(err),
              ErrorKind::internal);
}

}  // namespace hearth::engine::cuda

#define HEARTH_CUDA_CHECK(call)                                                       \
  do {                                                                                \
    cudaError_t hearth_err_ = (call);                                                 \
    if (hearth_err_ != cudaSuccess)                                                   \
      ::hearth::engine::cuda::throw_cuda_error(hearth_err_, #call, __FILE__, __LINE__); \
  } while (0)

// After a kernel launch: catches bad launch configurations at once (asynchronous faults surface at the
// next synchronising call, which is checked too).
#define HEARTH_CUDA_LAUNCH_CHECK() HEARTH_CUDA_CHECK(cudaGetLastError())
