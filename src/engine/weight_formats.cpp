#include "engine/weight_formats.h"

#include <cmath>
#include <cstring>

#include "util/error.h"

namespace hearth::engine {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::f32: return 4;
    case DType::f16: return 2;
    case DType::bf16: return 2;
    case DType::u8: return 1;
    case DType::u32: return 4;
    case DType::i32: return 4;
  }
  return 0;
}

std::string dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "F32";
    case DType::f16: return "F16";
    case DType::bf16: return "BF16";
    case DType::u8: return "U8";
    case DType::u32: return "U32";
    case DType::i32: return "I32";
  }
  return "?";
}

std::string format_name(WeightFormat f, int bits, int group_size) {
  switch (f) {
    case WeightFormat::dense: return "dense";
    case WeightFormat::affine:
      return "affine " + std::to_string(bits) + "-bit g" + std::to_string(group_size);
    case WeightFormat::mxfp4: return "mxfp4";
    case WeightFormat::nvfp4: return "nvfp4";
    case WeightFormat::mxfp8: return "mxfp8";
  }
  return "?";
}

size_t WeightMatrix::row_bytes() const {
  switch (format) {
    case WeightFormat::dense: return static_cast<size_t>(cols) * dtype_size(dtype);
    case WeightFormat::affine: return static_cast<size_t>(cols) * bits / 8;
    case WeightFormat::mxfp4:
    case WeightFormat::nvfp4: return static_cast<size_t>(cols) / 2;
    case WeightFormat::mxfp8: return static_cast<size_t>(cols);
  }
  return 0;
}

size_t WeightMatrix::scale_bytes() const {
  switch (format) {
    case WeightFormat::dense: return 0;
    case WeightFormat::affine: return dtype_size(dtype);
    default: return 1;
  }
}

WeightMatrix WeightMatrix::slice_rows(int64_t begin, int64_t count) const {
  WeightMatrix m = *this;
  m.rows = count;
  m.data = static_cast<const uint8_t*>(data) + row_bytes() * static_cast<size_t>(begin);
  if (quantized()) {
    size_t off = scales_row_bytes() * static_cast<size_t>(begin);
    m.scales = static_cast<const uint8_t*>(scales) + off;
    if (biases) m.biases = static_cast<const uint8_t*>(biases) + off;
  }
  return m;
}

std::string WeightMatrix::describe() const {
  std::string f = format == WeightFormat::dense ? dtype_name(dtype) : format_name(format, bits, group_size);
  return f + " [" + std::to_string(rows) + ", " + std::to_string(cols) + "]";
}

float f16_to_f32(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  if (exp == 0) {
    float v = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -v : v;
  }
  if (exp == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));
  return std::bit_cast<float>(sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t f32_to_f16(float f) {
  // Used only by tests and tools; round to nearest even through the hardware-independent path.
  uint32_t u = std::bit_cast<uint32_t>(f);
  uint32_t sign = (u >> 16) & 0x8000u;
  float a = std::fabs(f);
  if (std::isnan(f)) return static_cast<uint16_t>(sign | 0x7e00);
  if (a >= 65520.0f) return static_cast<uint16_t>(sign | 0x7c00);
  if (a < 6.103515625e-05f) {  // subnormal half: multiple of 2^-24
    uint32_t m = static_cast<uint32_t>(std::nearbyint(a * 16777216.0f));
    return static_cast<uint16_t>(sign | m);
  }
  int e;
  float m = std::frexp(a, &e);  // a = m·2^e, m in [0.5, 1)
  uint32_t mant = static_cast<uint32_t>(std::nearbyint((m * 2.0f - 1.0f) * 1024.0f));
  int exp = e - 1 + 15;
  if (mant == 1024) { mant = 0; ++exp; }
  if (exp >= 31) return static_cast<uint16_t>(sign | 0x7c00);
  return static_cast<uint16_t>(sign | (static_cast<uint32_t>(exp) << 10) | mant);
}

const float kE2M1Values[16] = {0.0f,  0.5f,  1.0f,  1.5f,  2.0f,  3.0f,  4.0f,  6.0f,
                               -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};

float e8m0_to_f32(uint8_t s) {
  if (s == 0) return std::ldexp(1.0f, -127);
  if (s == 255) return INFINITY;
  return std::bit_cast<float>(static_cast<uint32_t>(s) << 23);
}

float e4m3_to_f32(uint8_t v) {
  float sign = (v & 0x80) ? -1.0f : 1.0f;
  int exp = (v >> 3) & 0xf;
  int mant = v & 7;
  if (exp == 15 && mant == 7) return NAN;
  if (exp == 0) return sign * std::ldexp(static_cast<float>(mant), -9);
  return sign * std::ldexp(1.0f + mant / 8.0f, exp - 7);
}

namespace {

float dense_element(const void* row, DType t, int64_t j) {
  switch (t) {
    case DType::f32: return static_cast<const float*>(row)[j];
    case DType::bf16: return bf16_to_f32(static_cast<const uint16_t*>(row)[j]);
    case DType::f16: return f16_to_f32(static_cast<const uint16_t*>(row)[j]);
    default: throw Error("dense weight of non-float type " + dtype_name(t));
  }
}

uint32_t packed_code(const uint8_t* row, int bits, int64_t j) {
  if (32 % bits == 0) {
    const int per = 32 / bits;
    uint32_t word;
    std::memcpy(&word, row + 4 * (j / per), 4);
    return (word >> (bits * (j % per))) & ((1u << bits) - 1);
  }
  // 3/5/6-bit: little-endian bit stream.
  int64_t bit = j * bits;
  uint32_t v = 0;
  for (int b = 0; b < bits; ++b, ++bit) v |= ((row[bit / 8] >> (bit % 8)) & 1u) << b;
  return v;
}

}  // namespace

float weight_element(const WeightMatrix& w, int64_t r, int64_t j) {
  const uint8_t* row = static_cast<const uint8_t*>(w.data) + w.row_bytes() * static_cast<size_t>(r);
  if (w.format == WeightFormat::dense) return dense_element(row, w.dtype, j);
  const int64_t g = r * w.groups() + j / w.group_size;
  switch (w.format) {
    case WeightFormat::affine: {
      float s = dense_element(w.scales, w.dtype, g);
      float b = dense_element(w.biases, w.dtype, g);
      return s * static_cast<float>(packed_code(row, w.bits, j)) + b;
    }
    case WeightFormat::mxfp4:
      return kE2M1Values[packed_code(row, 4, j)] * e8m0_to_f32(static_cast<const uint8_t*>(w.scales)[g]);
    case WeightFormat::nvfp4:
      return kE2M1Values[packed_code(row, 4, j)] * e4m3_to_f32(static_cast<const uint8_t*>(w.scales)[g]);
    case WeightFormat::mxfp8:
      return e4m3_to_f32(row[j]) * e8m0_to_f32(static_cast<const uint8_t*>(w.scales)[g]);
    default: break;
  }
  throw Error("unknown weight format");
}

void decode_row(const WeightMatrix& w, int64_t r, float* out) {
  for (int64_t j = 0; j < w.cols; ++j) out[j] = weight_element(w, r, j);
}

}  // namespace hearth::engine
