// Device-side random data: dummy weights for benchmarks are generated where they live (a 20 GB model
// is never built on the host), and tests poison outputs before each run.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>

#include "engine/cuda/common/cuda_check.h"
#include "engine/cuda/common/types.h"
#include "engine/cuda/random_fill.h"

namespace hearth::engine::cuda {
namespace {

// splitmix64 of (seed, index): independent of launch shape, so the same seed gives the same data.
__device__ __forceinline__ uint64_t mix64(uint64_t seed, uint64_t i) {
  uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

__device__ __forceinline__ float unit_float(uint64_t r) { return static_cast<float>(r >> 40) * (1.0f / 16777216.0f); }

__global__ void kernel_fill_bits(uint8_t* dst, size_t bytes, uint64_t seed) {
  const size_t words = bytes / 8;
  uint64_t* w = reinterpret_cast<uint64_t*>(dst);
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < words;
       i += static_cast<size_t>(gridDim.x) * blockDim.x)
    w[i] = mix64(seed, i);
  if (blockIdx.x == 0 && threadIdx.x < bytes % 8)
    dst[words * 8 + threadIdx.x] = static_cast<uint8_t>(mix64(seed, words + threadIdx.x));
}

__global__ void kernel_fill_floats_random(void* dst, int64_t count, int dtype, float lo, float hi, uint64_t seed) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float v = lo + (hi - lo) * unit_float(mix64(seed, static_cast<uint64_t>(i)));
    switch (static_cast<DType>(dtype)) {
      case DType::f32: static_cast<float*>(dst)[i] = v; break;
      case DType::f16: static_cast<__half*>(dst)[i] = __float2half(v); break;
      default: static_cast<__nv_bfloat16*>(dst)[i] = __float2bfloat16(v); break;
    }
  }
}

__global__ void kernel_fill_codes(uint8_t* dst, int64_t count, int lo, int hi, uint64_t seed) {
  const uint64_t span = static_cast<uint64_t>(hi - lo + 1);
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    dst[i] = static_cast<uint8_t>(lo + static_cast<int>(mix64(seed, static_cast<uint64_t>(i)) % span));
}

__global__ void kernel_fill_value(float* dst, int64_t count, float value) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    dst[i] = value;
}

unsigned grid_for(int64_t items) {
  return static_cast<unsigned>(std::clamp<int64_t>((items + 255) / 256, 1, int64_t{device_info().sm_count} * 16));
}

}  // namespace

void launch_fill_random_bits(void* dst, size_t bytes, uint64_t seed, cudaStream_t stream) {
  if (bytes == 0) return;
  kernel_fill_bits<<<grid_for(static_cast<int64_t>(bytes / 8 + 1)), 256, 0, stream>>>(static_cast<uint8_t*>(dst),
                                                                                     bytes, seed);
  HEARTH_CUDA_LAUNCH_CHECK();
}

void launch_fill_random_floats(void* dst, int64_t count, DType dtype, float lo, float hi, uint64_t seed,
                               cudaStream_t stream) {
  if (count <= 0) return;
  kernel_fill_floats_random<<<grid_for(count), 256, 0, stream>>>(dst, count, static_cast<int>(dtype), lo, hi, seed);
  HEARTH_CUDA_LAUNCH_CHECK();
}

void launch_fill_random_codes(uint8_t* dst, int64_t count, int lo, int hi, uint64_t seed, cudaStream_t stream) {
  if (count <= 0) return;
  kernel_fill_codes<<<grid_for(count), 256, 0, stream>>>(dst, count, lo, hi, seed);
  HEARTH_CUDA_LAUNCH_CHECK();
}

void launch_fill_floats(float* dst, int64_t count, float value, cudaStream_t stream) {
  if (count <= 0) return;
  kernel_fill_value<<<grid_for(count), 256, 0, stream>>>(dst, count, value);
  HEARTH_CUDA_LAUNCH_CHECK();
}

}  // namespace hearth::engine::cuda
