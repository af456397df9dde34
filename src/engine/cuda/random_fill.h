#pragma once
// Device-side fills (random_fill.cu): dummy weights for --load-format dummy and the benchmarks, and the
// NaN poisoning the tests put into outputs.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "engine/weight_formats.h"

namespace hearth::engine::cuda {

// Fills `bytes` of device memory with pseudo-random bits from (seed, byte offset): dummy weights are
// generated on the GPU, never on the host.
void launch_fill_random_bits(void* dst, size_t bytes, uint64_t seed, cudaStream_t stream);
// Fills `count` scale (or bias) elements of `dtype` with random values in [lo, hi).
void launch_fill_random_floats(void* dst, int64_t count, DType dtype, float lo, float hi, uint64_t seed,
                               cudaStream_t stream);
// Fills `count` uint8 scales with codes drawn from [lo, hi] (E8M0 or E4M3 codes chosen by the caller).
void launch_fill_random_codes(uint8_t* dst, int64_t count, int lo, int hi, uint64_t seed, cudaStream_t stream);
// Writes `value` into every float of dst (tests poison outputs with NaN).
void launch_fill_floats(float* dst, int64_t count, float value, cudaStream_t stream);

}  // namespace hearth::engine::cuda
