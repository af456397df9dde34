#pragma once
// Helpers of the CUDA op tests: random weights in every stored format, device buffers that are
// poisoned (NaN) before each run so an unwritten output cannot pass, and the error measure.
//
// Error budget (max |cuda − cpu| / max |cpu|, and every element finite):
//  - kFp32: float32 kernels (matrix-vector, norms, elementwise, delta rule, decode attention, MoE
//    decode): only summation order differs from the CPU reference.
//  - kSplitBf16: tensor-core kernels (prefill GEMM, grouped MoE GEMM, prefill attention) whose operands
//    are split into bf16 hi + lo parts (about 2^-17 relative each), summed in float32 (Precision::exact).
//  - kBf16Norm and kBf16Max: Precision::fast prefill products (cuBLAS or one bf16 MMA per product):
//    both operands rounded to bf16 (relative error up to 2^-9 ≈ 2e-3 each), products accumulated in
//    float32. On a dot product of K random-sign terms the rounding errors add like a random walk, as
//    the terms do, so the expected error relative to the result's scale is ~2^-9 (≈ 2e-3) whatever K.
//    Budgets: ‖out − ref‖₂ / ‖ref‖₂ ≤ 1e-2 and max |out − ref| / max |ref| ≤ 2e-2 — about 5× the
//    expected error, while a wrong index mapping, a missing block or a stale padding column gives O(1).
//    This budget is far above the 5e-4 gaps between the tiny reference models' top logits, which is why
//    greedy-token identity is asserted in exact mode only (cuda_model_test.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "engine/cpu/cpu_ops.h"
#include "engine/cuda/attention/attention.h"
#include "engine/cuda/cuda_ops.h"
#include "engine/cuda/delta/delta.h"
#include "engine/cuda/elementwise/elementwise.h"
#include "engine/cuda/gemm/gemm.h"
#include "engine/cuda/matvec/matvec.h"
#include "engine/cuda/moe/moe.h"
#include "engine/cuda/random_fill.h"
#include "engine/weight_formats.h"

namespace hearth::engine::cuda::testing {

constexpr double kFp32 = 2e-5;
constexpr double kSplitBf16 = 1e-4;
constexpr double kBf16Norm = 1e-2;
constexpr double kBf16Max = 2e-2;

#define HEARTH_REQUIRE_GPU()                                         \
  do {                                                               \
    if (!::hearth::engine::cuda::device_available()) GTEST_SKIP() << "no CUDA device"; \
  } while (0)

inline std::mt19937_64& rng() {
  static std::mt19937_64 r(20261125);
  return r;
}
inline float uniform(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(rng()); }
inline std::vector<float> random_floats(size_t n, float lo = -1.0f, float hi = 1.0f) {
  std::vector<float> v(n);
  for (auto& x : v) x = uniform(lo, hi);
  return v;
}

// max |a - b| / max |b|; infinity if any element of a is not finite.
inline double max_rel_error(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double diff = 0, scale = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (!std::isfinite(a[i])) return INFINITY;
    diff = std::max(diff, static_cast<double>(std::fabs(a[i] - b[i])));
    scale = std::max(scale, static_cast<double>(std::fabs(b[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

// ‖a − b‖₂ / ‖b‖₂; infinity if any element of a is not finite.
inline double norm_rel_error(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double diff = 0, scale = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (!std::isfinite(a[i])) return INFINITY;
    const double d = static_cast<double>(a[i]) - static_cast<double>(b[i]);
    diff += d * d;
    scale += static_cast<double>(b[i]) * static_cast<double>(b[i]);
  }
  return scale > 0 ? std::sqrt(diff / scale) : std::sqrt(diff);
}

// A stored-format description for the tests.
struct FormatSpec {
  std::string name;
  WeightFormat format;
  DType dtype;  // dense element type / affine scale type
  int bits;
  int group;
};

inline std::vector<FormatSpec> all_formats() {
  return {
      {"f32", WeightFormat::dense, DType::f32, 0, 0},
      {"bf16", WeightFormat::dense, DType::bf16, 0, 0},
      {"f16", WeightFormat::dense, DType::f16, 0, 0},
      {"affine4_g32", WeightFormat::affine, DType::bf16, 4, 32},
      {"affine4_g64", WeightFormat::affine, DType::bf16, 4, 64},
      {"affine4_g128", WeightFormat::affine, DType::bf16, 4, 128},
      {"affine4_g64_f16scales", WeightFormat::affine, DType::f16, 4, 64},
      {"affine4_g64_f32scales", WeightFormat::affine, DType::f32, 4, 64},
      {"affine8_g32", WeightFormat::affine, DType::bf16, 8, 32},
      {"affine8_g64", WeightFormat::affine, DType::bf16, 8, 64},
      {"affine2_g64", WeightFormat::affine, DType::bf16, 2, 64},
      {"affine3_g64", WeightFormat::affine, DType::bf16, 3, 64},
      {"affine5_g32", WeightFormat::affine, DType::bf16, 5, 32},
      {"affine6_g64", WeightFormat::affine, DType::bf16, 6, 64},
      {"mxfp4", WeightFormat::mxfp4, DType::u8, 4, 32},
      {"nvfp4", WeightFormat::nvfp4, DType::u8, 4, 16},
      {"mxfp8", WeightFormat::mxfp8, DType::u8, 8, 32},
  };
}

inline FormatSpec format_named(const std::string& name) {
  for (const auto& f : all_formats())
    if (f.name == name) return f;
  throw std::runtime_error("unknown format " + name);
}

// Host storage of a random matrix in a stored format.
struct HostWeight {
  std::vector<uint8_t> data, scales, biases;
  WeightMatrix m;
};

inline void put_float(std::vector<uint8_t>& buf, size_t i, DType t, float v) {
  switch (t) {
    case DType::f32: std::memcpy(buf.data() + 4 * i, &v, 4); break;
    case DType::f16: {
      const uint16_t h = f32_to_f16(v);
      std::memcpy(buf.data() + 2 * i, &h, 2);
      break;
    }
    default: {
      const uint16_t h = f32_to_bf16(v);
      std::memcpy(buf.data() + 2 * i, &h, 2);
      break;
    }
  }
}

inline HostWeight random_weight(const FormatSpec& f, int64_t rows, int64_t cols) {
  HostWeight w;
  WeightMatrix& m = w.m;
  m.format = f.format;
  m.dtype = f.dtype;
  m.rows = rows;
  m.cols = cols;
  m.bits = f.bits;
  m.group_size = f.group;
  w.data.resize(m.data_bytes());
  std::uniform_int_distribution<int> byte(0, 255);
  if (f.format == WeightFormat::dense) {
    for (int64_t i = 0; i < rows * cols; ++i) put_float(w.data, static_cast<size_t>(i), f.dtype, uniform(-1, 1));
  } else {
    for (auto& b : w.data) b = static_cast<uint8_t>(byte(rng()));
  }
  const size_t groups = static_cast<size_t>(rows * (f.group ? cols / f.group : 0));
  switch (f.format) {
    case WeightFormat::affine:
      w.scales.resize(groups * dtype_size(f.dtype));
      w.biases.resize(groups * dtype_size(f.dtype));
      for (size_t g = 0; g < groups; ++g) {
        const float s = uniform(0.01f, 0.1f) * (uniform(0, 1) < 0.3f ? -1.0f : 1.0f);  // MLX scales can be negative
        put_float(w.scales, g, f.dtype, s);
        put_float(w.biases, g, f.dtype, uniform(-0.5f, 0.5f));
      }
      break;
    case WeightFormat::mxfp4:
    case WeightFormat::mxfp8:
      w.scales.resize(groups);
      for (auto& s : w.scales) s = static_cast<uint8_t>(std::uniform_int_distribution<int>(118, 130)(rng()));
      if (f.format == WeightFormat::mxfp8)
        for (auto& b : w.data)
          if ((b & 0x7f) == 0x7f) b &= 0xfe;  // no NaN codes
      break;
    case WeightFormat::nvfp4:
      w.scales.resize(groups);
      for (auto& s : w.scales) {
        s = static_cast<uint8_t>(std::uniform_int_distribution<int>(0x01, 0x5f)(rng()));
        if (uniform(0, 1) < 0.2f) s |= 0x80;
      }
      break;
    default: break;
  }
  m.data = w.data.data();
  m.scales = w.scales.empty() ? nullptr : w.scales.data();
  m.biases = w.biases.empty() ? nullptr : w.biases.data();
  return w;
}

// A float buffer on the device, filled from / read back to host vectors.
class DeviceFloats {
 public:
  DeviceFloats(CudaOps& ops, size_t count) : ops_(ops), count_(count), ptr_(static_cast<float*>(ops.alloc(count * 4))) {}
  DeviceFloats(CudaOps& ops, const std::vector<float>& host) : DeviceFloats(ops, host.size()) { upload(host); }
  ~DeviceFloats() { ops_.release(ptr_); }
  DeviceFloats(const DeviceFloats&) = delete;
  DeviceFloats& operator=(const DeviceFloats&) = delete;

  float* get() const { return ptr_; }
  void upload(const std::vector<float>& host) { ops_.upload(ptr_, host.data(), host.size() * 4); }
  // NaN everywhere: outputs the op must write.
  void poison() { launch_fill_floats(ptr_, static_cast<int64_t>(count_), NAN, ops_.stream()); }
  std::vector<float> download() const {
    std::vector<float> v(count_);
    ops_.download(v.data(), ptr_, count_ * 4);
    return v;
  }
  Tensor tensor(int64_t rows, int64_t cols, int64_t stride = 0) const {
    return Tensor{ptr_, rows, cols, stride ? stride : cols};
  }

 private:
  CudaOps& ops_;
  size_t count_;
  float* ptr_;
};

inline Tensor host_tensor(std::vector<float>& v, int64_t rows, int64_t cols, int64_t stride = 0) {
  return Tensor{v.data(), rows, cols, stride ? stride : cols};
}

// The rows × cols elements of a strided buffer, packed (padding between rows is not compared).
inline std::vector<float> packed(const std::vector<float>& buf, int64_t rows, int64_t cols, int64_t stride) {
  std::vector<float> out;
  out.reserve(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    out.insert(out.end(), buf.begin() + r * stride, buf.begin() + r * stride + cols);
  return out;
}

}  // namespace hearth::engine::cuda::testing
