#pragma once
// Kernel launches with programmatic dependent launch (PDL): each kernel may be launched while its
// predecessor in the stream still runs, so that inside a recorded decode step (a graph of ~1000 small
// kernels) launch latency overlaps the previous kernel instead of adding to it. Correctness rests on
// one rule: every kernel launched this way calls pdl_begin() before it touches global memory; it waits
// there until the predecessor has finished and its writes are visible.
#include <cuda_runtime.h>

#include <utility>

#include "engine/cuda/common/cuda_check.h"

namespace hearth::engine::cuda {

__device__ __forceinline__ void pdl_begin() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

template <class... KernelArgs, class... Args>
void launch_pdl(void (*kernel)(KernelArgs...), dim3 grid, dim3 block, size_t smem, cudaStream_t stream,
                Args&&... args) {
  cudaLaunchConfig_t config = {};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = smem;
  config.stream = stream;
  cudaLaunchAttribute attribute[1];
  attribute[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute[0].val.programmaticStreamSerializationAllowed = 1;
  config.attrs = attribute;
  config.numAttrs = 1;
  HEARTH_CUDA_CHECK(cudaLaunchKernelEx(&config, kernel, std::forward<Args>(args)...));
}

}  // namespace hearth::engine::cuda
