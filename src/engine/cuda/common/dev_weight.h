#pragma once
// The kernels' view of a weight matrix and the decoder choice; plain C++ so that host code compiled
// without nvcc (cuda_ops.cpp) can fill it in. The device decoders live in device_weights.cuh.
#include <cstdint>

namespace hearth::engine::cuda {

// Which decoder a kernel is instantiated with. The fast codecs need cols % 32 == 0, 16-byte aligned
// rows and groups of at least 16 that tile a chunk; everything else (2/3/5/6-bit affine, mxfp8,
// f16/f32, odd shapes) takes the generic per-element decoder.
enum class Codec : int { affine4, affine8, fp4, bf16, generic };

// A WeightMatrix as kernels see it (trivially copyable, passed by value).
struct DevWeight {
  const uint8_t* data = nullptr;
  const uint8_t* scales = nullptr;
  const uint8_t* biases = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t row_bytes = 0;
  int32_t groups = 0;  // groups per row
  int32_t group_size = 0;
  int32_t bits = 0;
  uint8_t format = 0;  // WeightFormat
  uint8_t dtype = 0;   // DType: dense element type, or affine scale/bias type
};

}  // namespace hearth::engine::cuda
