#pragma once
// How a weight matrix sits in memory, in every format hearth reads, and the scalar decoders for the
// packed element and scale encodings. Kernels (CPU and CUDA) decode these formats while they read
// them: nothing dequantises a whole matrix (shared/DESIGN.md).
//
// Packed layouts (MLX, read from mlx/backend/cpu/quantized.cpp; shared/reference/mlx-formats.md):
//   affine, bits 2/4/8: element j of a row is in uint32 word j / (32/bits) at bit bits·(j % (32/bits)).
//   affine, bits 3/5/6: the row is one little-endian bit stream, element j at bits [j·bits, j·bits+bits).
//   w = scale·q + bias per group of `group_size` elements; scales/biases are [rows, cols/group] of `dtype`.
//   mxfp4 / nvfp4: E2M1 codes packed like affine 4-bit; one uint8 scale per group (E8M0 for mxfp4,
//   group 32; FP8 E4M3 for nvfp4, group 16); w = e2m1(code)·scale. mxfp8: one E4M3 byte per element.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace hearth::engine {

// Element types of tensors in weight files.
enum class DType : uint8_t { f32, f16, bf16, u8, u32, i32 };
size_t dtype_size(DType t);
std::string dtype_name(DType t);

enum class WeightFormat : uint8_t {
  dense,   // plain f32 / f16 / bf16 elements (dtype), row-major [rows, cols]
  affine,  // MLX affine: packed unsigned q of `bits`, per-group scale and bias of `dtype`
  mxfp4,   // E2M1 codes, E8M0 scale per 32
  nvfp4,   // E2M1 codes, E4M3 scale per 16
  mxfp8,   // E4M3 codes (one byte each), E8M0 scale per 32
};
std::string format_name(WeightFormat f, int bits = 0, int group_size = 0);

// One logical [rows, cols] matrix (rows = output features, cols = input features). Pointers are in the
// backend's memory (host for CPU, device for CUDA). Rows are contiguous: row r starts at
// data + r·row_bytes(), its scales at scales + r·groups()·scale_bytes().
struct WeightMatrix {
  WeightFormat format = WeightFormat::dense;
  DType dtype = DType::f32;  // dense: element type; affine: type of scales and biases (bf16/f16/f32)
  int64_t rows = 0;
  int64_t cols = 0;
  int bits = 0;        // quantized formats
  int group_size = 0;  // quantized formats
  const void* data = nullptr;
  const void* scales = nullptr;
  const void* biases = nullptr;  // affine only

  bool quantized() const { return format != WeightFormat::dense; }
  int64_t groups() const { return quantized() ? cols / group_size : 0; }
  size_t row_bytes() const;          // bytes of one row of `data`
  size_t scale_bytes() const;        // bytes of one scale (and one bias) element
  size_t data_bytes() const { return row_bytes() * static_cast<size_t>(rows); }
  size_t scales_row_bytes() const { return scale_bytes() * static_cast<size_t>(groups()); }
  // Rows [begin, begin + count) as a matrix of their own (same storage).
  WeightMatrix slice_rows(int64_t begin, int64_t count) const;
  std::string describe() const;  // "affine 4-bit g64 [512, 2048]"
};

// Matrices of the same shape and format, one per MoE expert. They may be slices of one stacked tensor
// (MLX switch_mlp, HF fused gate_up_proj) or separate tensors (HF per-expert checkpoints), so each
// expert has its own pointers.
struct WeightStack {
  std::vector<WeightMatrix> experts;
  int64_t count() const { return static_cast<int64_t>(experts.size()); }
  const WeightMatrix& at(int64_t e) const { return experts[static_cast<size_t>(e)]; }
};

// ---- scalar decoders (host; the CUDA backend mirrors them) ---------------------------------------
inline float bf16_to_f32(uint16_t h) { return std::bit_cast<float>(static_cast<uint32_t>(h) << 16); }
inline uint16_t f32_to_bf16(float f) {  // round to nearest even (NaN kept quiet)
  uint32_t u = std::bit_cast<uint32_t>(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);
// E2M1 code (low 4 bits): 0, 0.5, 1, 1.5, 2, 3, 4, 6, bit 3 = sign.
extern const float kE2M1Values[16];
// E8M0: 2^(s-127); MLX decodes s = 0 as 2^-127 (not zero).
float e8m0_to_f32(uint8_t s);
// FP8 E4M3 (FN: bias 7, no infinities, 0x7f/0xff NaN).
float e4m3_to_f32(uint8_t v);

// Decodes element `j` of row `r` (slow path for tests and tools; kernels decode whole groups).
float weight_element(const WeightMatrix& w, int64_t r, int64_t j);
// Decodes row `r` into `out` (cols floats).
void decode_row(const WeightMatrix& w, int64_t r, float* out);

}  // namespace hearth::engine
