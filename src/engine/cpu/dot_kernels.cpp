#include "engine/cpu/dot_kernels.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "util/error.h"

namespace hearth::engine::cpu {

namespace {

std::atomic<int> g_isa_override{-1};

inline const uint8_t* row_ptr(const WeightMatrix& w, int64_t r) {
  return static_cast<const uint8_t*>(w.data) + w.row_bytes() * static_cast<size_t>(r);
}

inline float scalar_at(const void* p, DType t, int64_t i) {
  switch (t) {
    case DType::f32: return static_cast<const float*>(p)[i];
    case DType::bf16: return bf16_to_f32(static_cast<const uint16_t*>(p)[i]);
    case DType::f16: return f16_to_f32(static_cast<const uint16_t*>(p)[i]);
    case DType::u8: return static_cast<float>(static_cast<const uint8_t*>(p)[i]);
    default: return 0.0f;
  }
}

// Per-group scale (and bias) of row r.
struct GroupParams {
  const void* scales;
  const void* biases;
  DType dtype;
  int64_t first;  // index of the row's first group
};

inline GroupParams group_params(const WeightMatrix& w, int64_t r) { return {w.scales, w.biases, w.dtype, r * w.groups()}; }

// Scale decoders as tables: nvfp4 has a scale every 16 elements, so decoding them must be cheap.
struct ScaleTables {
  float e4m3[256];
  float e8m0[256];
  ScaleTables() {
    for (int i = 0; i < 256; ++i) {
      e4m3[i] = e4m3_to_f32(static_cast<uint8_t>(i));
      e8m0[i] = e8m0_to_f32(static_cast<uint8_t>(i));
    }
  }
};
const ScaleTables& tables() {
  static const ScaleTables t;
  return t;
}

struct E4M3View {
  const float* v;
};
inline E4M3View e4m3_table() { return {tables().e4m3}; }

inline float fp_scale(const WeightMatrix& w, int64_t g) {
  const uint8_t s = static_cast<const uint8_t*>(w.scales)[g];
  return w.format == WeightFormat::nvfp4 ? tables().e4m3[s] : tables().e8m0[s];
}

// Decodes group g (group_size elements starting at column g·group) of a quantized row into out.
void decode_group_portable(const WeightMatrix& w, int64_t r, int64_t g, float* out) {
  const uint8_t* row = row_ptr(w, r);
  const int64_t gi = r * w.groups() + g;
  const int64_t j0 = g * w.group_size;
  switch (w.format) {
    case WeightFormat::affine: {
      const float s = scalar_at(w.scales, w.dtype, gi), b = scalar_at(w.biases, w.dtype, gi);
      if (32 % w.bits == 0) {
        const int per = 32 / w.bits;
        const uint32_t mask = (1u << w.bits) - 1;
        for (int64_t j = 0; j < w.group_size; j += per) {
          uint32_t word;
          std::memcpy(&word, row + 4 * ((j0 + j) / per), 4);
          for (int k = 0; k < per; ++k) out[j + k] = s * static_cast<float>((word >> (k * w.bits)) & mask) + b;
        }
      } else {
        for (int64_t j = 0; j < w.group_size; ++j) {
          int64_t bit = (j0 + j) * w.bits;
          uint32_t v = 0;
          for (int k = 0; k < w.bits; ++k, ++bit) v |= ((row[bit / 8] >> (bit % 8)) & 1u) << k;
          out[j] = s * static_cast<float>(v) + b;
        }
      }
      return;
    }
    case WeightFormat::mxfp4:
    case WeightFormat::nvfp4: {
      const float s = fp_scale(w, gi);
      for (int64_t j = 0; j < w.group_size; j += 8) {
        uint32_t word;
        std::memcpy(&word, row + 4 * ((j0 + j) / 8), 4);
        for (int k = 0; k < 8; ++k) out[j + k] = kE2M1Values[(word >> (4 * k)) & 15] * s;
      }
      return;
    }
    case WeightFormat::mxfp8: {
      const float s = e8m0_to_f32(static_cast<const uint8_t*>(w.scales)[gi]);
      const E4M3View t = e4m3_table();
      for (int64_t j = 0; j < w.group_size; ++j) out[j] = t.v[row[j0 + j]] * s;
      return;
    }
    default: break;
  }
  throw Error("decode_group: not a quantized matrix");
}

float dot_f32_portable(const float* a, const float* b, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; ++k) acc[k] += a[i + k] * b[i + k];
  }
  for (; i < n; ++i) acc[0] += a[i] * b[i];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

void decode_row_portable(const WeightMatrix& w, int64_t r, float* out) {
  if (w.format == WeightFormat::dense) {
    const uint8_t* row = row_ptr(w, r);
    switch (w.dtype) {
      case DType::f32: std::memcpy(out, row, sizeof(float) * static_cast<size_t>(w.cols)); return;
      case DType::bf16:
        for (int64_t j = 0; j < w.cols; ++j) out[j] = bf16_to_f32(reinterpret_cast<const uint16_t*>(row)[j]);
        return;
      case DType::f16:
        for (int64_t j = 0; j < w.cols; ++j) out[j] = f16_to_f32(reinterpret_cast<const uint16_t*>(row)[j]);
        return;
      default: throw Error("dense matrix of non-float dtype");
    }
  }
  for (int64_t g = 0; g < w.groups(); ++g) decode_group_portable(w, r, g, out + g * w.group_size);
}

float dot_row_portable(const WeightMatrix& w, int64_t r, const float* x) {
  if (w.format == WeightFormat::dense && w.dtype == DType::f32) {
    return dot_f32_portable(reinterpret_cast<const float*>(row_ptr(w, r)), x, w.cols);
  }
  float buf[256];
  if (w.format == WeightFormat::dense) {
    float total = 0;
    for (int64_t j0 = 0; j0 < w.cols; j0 += 256) {
      const int64_t n = std::min<int64_t>(256, w.cols - j0);
      const uint8_t* row = row_ptr(w, r) + j0 * static_cast<int64_t>(dtype_size(w.dtype));
      for (int64_t j = 0; j < n; ++j) {
        buf[j] = w.dtype == DType::bf16 ? bf16_to_f32(reinterpret_cast<const uint16_t*>(row)[j])
                                        : f16_to_f32(reinterpret_cast<const uint16_t*>(row)[j]);
      }
      total += dot_f32_portable(buf, x + j0, n);
    }
    return total;
  }
  float total = 0;
  for (int64_t g = 0; g < w.groups(); ++g) {
    decode_group_portable(w, r, g, buf);
    total += dot_f32_portable(buf, x + g * w.group_size, w.group_size);
  }
  return total;
}

// ---- AVX2 + FMA ------------------------------------------------------------------------------------
#define HEARTH_AVX2 __attribute__((target("avx2,fma,f16c")))

HEARTH_AVX2 inline float hsum(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
  return _mm_cvtss_f32(lo);
}

HEARTH_AVX2 inline __m256 load_bf16x8(const uint16_t* p) {
  __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

HEARTH_AVX2 inline __m256 load_f16x8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

HEARTH_AVX2 inline __m256 nibbles_to_f32(uint32_t word) {
  const __m256i shifts = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
  __m256i v = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int>(word)), shifts), _mm256_set1_epi32(15));
  return _mm256_cvtepi32_ps(v);
}

HEARTH_AVX2 inline __m256 e2m1_to_f32(uint32_t word) {
  const __m256i shifts = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
  const __m256 lut = _mm256_setr_ps(0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f);
  __m256i idx = _mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int>(word)), shifts);
  __m256 mag = _mm256_permutevar8x32_ps(lut, idx);  // uses the low 3 bits
  __m256i sign = _mm256_slli_epi32(_mm256_and_si256(idx, _mm256_set1_epi32(8)), 28);
  return _mm256_xor_ps(mag, _mm256_castsi256_ps(sign));
}

HEARTH_AVX2 inline __m256 bytes_to_f32(const uint8_t* p) {
  __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
  return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b));
}

HEARTH_AVX2 float dot_f32_avx2(const float* a, const float* b, int64_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  float t = hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
  for (; i < n; ++i) t += a[i] * b[i];
  return t;
}

HEARTH_AVX2 float dot_dense16_avx2(const uint16_t* w, const float* x, int64_t n, bool bf16) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int64_t i = 0;
  if (bf16) {
    for (; i + 16 <= n; i += 16) {
      s0 = _mm256_fmadd_ps(load_bf16x8(w + i), _mm256_loadu_ps(x + i), s0);
      s1 = _mm256_fmadd_ps(load_bf16x8(w + i + 8), _mm256_loadu_ps(x + i + 8), s1);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(load_bf16x8(w + i), _mm256_loadu_ps(x + i), s0);
  } else {
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(load_f16x8(w + i), _mm256_loadu_ps(x + i), s0);
  }
  float t = hsum(_mm256_add_ps(s0, s1));
  for (; i < n; ++i) t += (bf16 ? bf16_to_f32(w[i]) : f16_to_f32(w[i])) * x[i];
  return t;
}

HEARTH_AVX2 float dot_affine_avx2(const WeightMatrix& w, int64_t r, const float* x) {
  const uint8_t* row = row_ptr(w, r);
  const GroupParams gp = group_params(w, r);
  const int64_t G = w.groups(), gs = w.group_size;
  __m256 acc = _mm256_setzero_ps();
  if (w.bits == 4) {
    const uint32_t* words = reinterpret_cast<const uint32_t*>(row);
    for (int64_t g = 0; g < G; ++g) {
      __m256 gacc = _mm256_setzero_ps(), xs = _mm256_setzero_ps();
      const float* xg = x + g * gs;
      const uint32_t* wg = words + g * gs / 8;
      for (int64_t k = 0; k < gs / 8; ++k) {
        __m256 xv = _mm256_loadu_ps(xg + 8 * k);
        gacc = _mm256_fmadd_ps(nibbles_to_f32(wg[k]), xv, gacc);
        xs = _mm256_add_ps(xs, xv);
      }
      acc = _mm256_fmadd_ps(_mm256_set1_ps(scalar_at(gp.scales, gp.dtype, gp.first + g)), gacc, acc);
      acc = _mm256_fmadd_ps(_mm256_set1_ps(scalar_at(gp.biases, gp.dtype, gp.first + g)), xs, acc);
    }
    return hsum(acc);
  }
  // 8-bit
  for (int64_t g = 0; g < G; ++g) {
    __m256 gacc = _mm256_setzero_ps(), xs = _mm256_setzero_ps();
    const float* xg = x + g * gs;
    const uint8_t* bg = row + g * gs;
    for (int64_t k = 0; k < gs; k += 8) {
      __m256 xv = _mm256_loadu_ps(xg + k);
      gacc = _mm256_fmadd_ps(bytes_to_f32(bg + k), xv, gacc);
      xs = _mm256_add_ps(xs, xv);
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(scalar_at(gp.scales, gp.dtype, gp.first + g)), gacc, acc);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(scalar_at(gp.biases, gp.dtype, gp.first + g)), xs, acc);
  }
  return hsum(acc);
}

HEARTH_AVX2 float dot_fp4_avx2(const WeightMatrix& w, int64_t r, const float* x) {
  const uint32_t* words = reinterpret_cast<const uint32_t*>(row_ptr(w, r));
  const int64_t G = w.groups(), gs = w.group_size, first = r * G;
  __m256 acc = _mm256_setzero_ps();
  for (int64_t g = 0; g < G; ++g) {
    __m256 gacc = _mm256_setzero_ps();
    const float* xg = x + g * gs;
    const uint32_t* wg = words + g * gs / 8;
    for (int64_t k = 0; k < gs / 8; ++k) gacc = _mm256_fmadd_ps(e2m1_to_f32(wg[k]), _mm256_loadu_ps(xg + 8 * k), gacc);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(fp_scale(w, first + g)), gacc, acc);
  }
  return hsum(acc);
}

HEARTH_AVX2 void decode_row_avx2(const WeightMatrix& w, int64_t r, float* out) {
  const uint8_t* row = row_ptr(w, r);
  if (w.format == WeightFormat::dense && w.dtype == DType::bf16) {
    const uint16_t* p = reinterpret_cast<const uint16_t*>(row);
    int64_t j = 0;
    for (; j + 8 <= w.cols; j += 8) _mm256_storeu_ps(out + j, load_bf16x8(p + j));
    for (; j < w.cols; ++j) out[j] = bf16_to_f32(p[j]);
    return;
  }
  if (w.format == WeightFormat::affine && w.bits == 4) {
    const GroupParams gp = group_params(w, r);
    const uint32_t* words = reinterpret_cast<const uint32_t*>(row);
    for (int64_t g = 0; g < w.groups(); ++g) {
      __m256 s = _mm256_set1_ps(scalar_at(gp.scales, gp.dtype, gp.first + g));
      __m256 b = _mm256_set1_ps(scalar_at(gp.biases, gp.dtype, gp.first + g));
      for (int64_t k = 0; k < w.group_size / 8; ++k) {
        const int64_t j = g * w.group_size + 8 * k;
        _mm256_storeu_ps(out + j, _mm256_fmadd_ps(nibbles_to_f32(words[j / 8]), s, b));
      }
    }
    return;
  }
  if (w.format == WeightFormat::mxfp4 || w.format == WeightFormat::nvfp4) {
    const uint32_t* words = reinterpret_cast<const uint32_t*>(row);
    const int64_t first = r * w.groups();
    for (int64_t g = 0; g < w.groups(); ++g) {
      __m256 s = _mm256_set1_ps(fp_scale(w, first + g));
      for (int64_t k = 0; k < w.group_size / 8; ++k) {
        const int64_t j = g * w.group_size + 8 * k;
        _mm256_storeu_ps(out + j, _mm256_mul_ps(e2m1_to_f32(words[j / 8]), s));
      }
    }
    return;
  }
  decode_row_portable(w, r, out);
}

float dot_row_avx2(const WeightMatrix& w, int64_t r, const float* x) {
  switch (w.format) {
    case WeightFormat::dense:
      if (w.dtype == DType::f32) return dot_f32_avx2(reinterpret_cast<const float*>(row_ptr(w, r)), x, w.cols);
      return dot_dense16_avx2(reinterpret_cast<const uint16_t*>(row_ptr(w, r)), x, w.cols, w.dtype == DType::bf16);
    case WeightFormat::affine:
      if ((w.bits == 4 || w.bits == 8) && w.group_size % 8 == 0) return dot_affine_avx2(w, r, x);
      break;
    case WeightFormat::mxfp4:
    case WeightFormat::nvfp4: return dot_fp4_avx2(w, r, x);
    default: break;
  }
  return dot_row_portable(w, r, x);
}

bool cpu_has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}

}  // namespace

KernelIsa best_isa() {
  static const bool avx2 = cpu_has_avx2();
  return avx2 ? KernelIsa::avx2 : KernelIsa::portable;
}

void set_isa_override(KernelIsa isa) { g_isa_override.store(static_cast<int>(isa)); }

KernelIsa active_isa() {
  int o = g_isa_override.load(std::memory_order_relaxed);
  if (o >= 0 && (static_cast<KernelIsa>(o) == KernelIsa::portable || best_isa() == KernelIsa::avx2)) {
    return static_cast<KernelIsa>(o);
  }
  return best_isa();
}

float dot_f32(const float* a, const float* b, int64_t n) {
  return active_isa() == KernelIsa::avx2 ? dot_f32_avx2(a, b, n) : dot_f32_portable(a, b, n);
}

float dot_row(const WeightMatrix& w, int64_t r, const float* x) {
  return active_isa() == KernelIsa::avx2 ? dot_row_avx2(w, r, x) : dot_row_portable(w, r, x);
}

void decode_row_fast(const WeightMatrix& w, int64_t r, float* out) {
  if (active_isa() == KernelIsa::avx2) decode_row_avx2(w, r, out);
  else decode_row_portable(w, r, out);
}

}  // namespace hearth::engine::cpu
