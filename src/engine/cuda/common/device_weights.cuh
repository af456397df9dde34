#pragma once
// Device-side decoding of the stored weight formats (engine/weight_formats.h), mirroring the host
// decoders exactly. Kernels decode 32 consecutive elements of a row at a time ("a chunk"): for the
// 4-bit formats that is one 16-byte load, for 8-bit two, for bf16 four, so a warp reading consecutive
// chunks issues fully coalesced 16-byte loads and dequantises in registers.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "engine/cuda/common/dev_weight.h"
#include "engine/weight_formats.h"

namespace hearth::engine::cuda {

// ---- scalar decoders ---------------------------------------------------------------------------------
__device__ __forceinline__ float dev_bf16(uint32_t h) { return __uint_as_float(h << 16); }
__device__ __forceinline__ float dev_f16(uint16_t h) { return __half2float(__ushort_as_half(h)); }
// E8M0: 2^(s-127); s = 0 is 2^-127 (a float32 subnormal), s = 255 is infinity, as on the host.
__device__ __forceinline__ float dev_e8m0(uint32_t s) {
  return s == 0 ? __uint_as_float(0x00400000u) : __uint_as_float(s << 23);
}
// FP8 E4M3 (FN): bias 7, subnormals at exponent 0, 0x7f/0xff NaN.
__device__ __forceinline__ float dev_e4m3(uint32_t v) {
  const uint32_t exp = (v >> 3) & 15u, mant = v & 7u;
  float mag;
  if (exp == 0) {
    mag = static_cast<float>(mant) * (1.0f / 512.0f);
  } else if (exp == 15 && mant == 7) {
    mag = __uint_as_float(0x7fc00000u);
  } else {
    mag = __uint_as_float(((exp + 120u) << 23) | (mant << 20));
  }
  return (v & 0x80u) ? -mag : mag;
}
// E2M1 code (low 4 bits) built from its bit fields, so no table lookup with a run-time index
// (which would put the table in local memory): 0, 0.5, 1, 1.5, 2, 3, 4, 6 and their negatives.
__device__ __forceinline__ float dev_e2m1(uint32_t c) {
  const uint32_t e = (c >> 1) & 3u, m = c & 1u;
  uint32_t bits = e ? (((126u + e) << 23) | (m << 22)) : (m ? (126u << 23) : 0u);
  bits |= (c & 8u) << 28;
  return __uint_as_float(bits);
}
// Exact small unsigned integer to float without the slow integer-convert unit: 2^23 + q has q in the
// low mantissa bits.
__device__ __forceinline__ float dev_small_uint(uint32_t q) {
  return __uint_as_float(0x4B000000u | q) - 8388608.0f;
}

__device__ __forceinline__ float dev_load_float(const uint8_t* base, int64_t i, uint32_t dtype) {
  switch (static_cast<DType>(dtype)) {
    case DType::f32: return reinterpret_cast<const float*>(base)[i];
    case DType::f16: return dev_f16(reinterpret_cast<const uint16_t*>(base)[i]);
    default: return dev_bf16(reinterpret_cast<const uint16_t*>(base)[i]);
  }
}

// Scale of group g (absolute index into the scales array) for the floating-point modes.
__device__ __forceinline__ float dev_fp_scale(const DevWeight& w, int64_t g) {
  const uint32_t s = w.scales[g];
  return static_cast<WeightFormat>(w.format) == WeightFormat::nvfp4 ? dev_e4m3(s) : dev_e8m0(s);
}

// Element j of row r, any format (the slow reference path; mirrors weight_element()).
static __device__ __noinline__ float dev_weight_element(const DevWeight& w, int64_t r, int64_t j) {
  const uint8_t* row = w.data + r * w.row_bytes;
  const auto fmt = static_cast<WeightFormat>(w.format);
  if (fmt == WeightFormat::dense) return dev_load_float(row, j, w.dtype);
  const int64_t g = r * w.groups + j / w.group_size;
  if (fmt == WeightFormat::mxfp8) return dev_e4m3(row[j]) * dev_e8m0(w.scales[g]);
  uint32_t code;
  const int bits = (fmt == WeightFormat::affine) ? w.bits : 4;
  if (32 % bits == 0) {
    const int per = 32 / bits;
    const int64_t byte = 4 * (j / per);
    const uint32_t word = uint32_t(row[byte]) | (uint32_t(row[byte + 1]) << 8) |
                          (uint32_t(row[byte + 2]) << 16) | (uint32_t(row[byte + 3]) << 24);
    code = (word >> (bits * (j % per))) & ((1u << bits) - 1u);
  } else {  // 3/5/6-bit: little-endian bit stream
    int64_t bit = j * bits;
    code = 0;
    for (int b = 0; b < bits; ++b, ++bit) code |= ((row[bit >> 3] >> (bit & 7)) & 1u) << b;
  }
  if (fmt == WeightFormat::affine) {
    return dev_load_float(w.scales, g, w.dtype) * static_cast<float>(code) + dev_load_float(w.biases, g, w.dtype);
  }
  return dev_e2m1(code) * dev_fp_scale(w, g);
}

// ---- chunk decoders: elements [32·chunk, 32·chunk + 32) of row r into out[] ---------------------------
template <Codec C>
__device__ __forceinline__ void decode_chunk(const DevWeight& w, int64_t r, int64_t chunk, float (&out)[32]);

template <>
__device__ __forceinline__ void decode_chunk<Codec::affine4>(const DevWeight& w, int64_t r, int64_t chunk,
                                                             float (&out)[32]) {
  const uint4 q = __ldg(reinterpret_cast<const uint4*>(w.data + r * w.row_bytes) + chunk);
  const int64_t g = r * w.groups + (chunk * 32) / w.group_size;  // group_size >= 32: one group
  const float s = dev_load_float(w.scales, g, w.dtype), b = dev_load_float(w.biases, g, w.dtype);
  const uint32_t words[4] = {q.x, q.y, q.z, q.w};
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int k = 0; k < 8; ++k) out[i * 8 + k] = fmaf(s, dev_small_uint((words[i] >> (4 * k)) & 15u), b);
}

template <>
__device__ __forceinline__ void decode_chunk<Codec::affine8>(const DevWeight& w, int64_t r, int64_t chunk,
                                                             float (&out)[32]) {
  const uint4* p = reinterpret_cast<const uint4*>(w.data + r * w.row_bytes) + 2 * chunk;
  const uint4 q0 = __ldg(p), q1 = __ldg(p + 1);
  const int64_t g = r * w.groups + (chunk * 32) / w.group_size;  // group_size >= 32: one group
  const float s = dev_load_float(w.scales, g, w.dtype), b = dev_load_float(w.biases, g, w.dtype);
  const uint32_t words[8] = {q0.x, q0.y, q0.z, q0.w, q1.x, q1.y, q1.z, q1.w};
#pragma unroll
  for (int i = 0; i < 8; ++i)
#pragma unroll
    for (int k = 0; k < 4; ++k) out[i * 4 + k] = fmaf(s, dev_small_uint((words[i] >> (8 * k)) & 255u), b);
}

// mxfp4 (group 32) and nvfp4 (group 16): the chunk's two halves look up their scale separately.
template <>
__device__ __forceinline__ void decode_chunk<Codec::fp4>(const DevWeight& w, int64_t r, int64_t chunk,
                                                         float (&out)[32]) {
  const uint4 q = __ldg(reinterpret_cast<const uint4*>(w.data + r * w.row_bytes) + chunk);
  const int64_t g0 = r * w.groups + (chunk * 32) / w.group_size;
  const int64_t g1 = r * w.groups + (chunk * 32 + 16) / w.group_size;
  const float s0 = dev_fp_scale(w, g0), s1 = (g1 == g0) ? s0 : dev_fp_scale(w, g1);
  const uint32_t words[4] = {q.x, q.y, q.z, q.w};
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int k = 0; k < 8; ++k) out[i * 8 + k] = dev_e2m1((words[i] >> (4 * k)) & 15u) * (i < 2 ? s0 : s1);
}

template <>
__device__ __forceinline__ void decode_chunk<Codec::bf16>(const DevWeight& w, int64_t r, int64_t chunk,
                                                          float (&out)[32]) {
  const uint4* p = reinterpret_cast<const uint4*>(w.data + r * w.row_bytes) + 4 * chunk;
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const uint4 q = __ldg(p + i);
    const uint32_t words[4] = {q.x, q.y, q.z, q.w};
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      out[i * 8 + 2 * k] = __uint_as_float(words[k] << 16);
      out[i * 8 + 2 * k + 1] = __uint_as_float(words[k] & 0xffff0000u);
    }
  }
}

// Any format and any width; elements past the row's end decode to 0. The slow path: kept rolled (and
// the element decoder out of line) so that its many instantiations do not bloat the binary.
template <>
__device__ __forceinline__ void decode_chunk<Codec::generic>(const DevWeight& w, int64_t r, int64_t chunk,
                                                             float (&out)[32]) {
#pragma unroll 1
  for (int e = 0; e < 32; ++e) {
    const int64_t j = chunk * 32 + e;
    out[e] = j < w.cols ? dev_weight_element(w, r, j) : 0.0f;
  }
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

}  // namespace hearth::engine::cuda
