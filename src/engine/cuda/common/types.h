#pragma once
// Types every kernel family of engine/cuda/ shares: the host view of a weight (DevWeight), the device
// properties launchers size their grids with, a strided float matrix view, and the two launch structs
// more than one family reads — MatmulLaunch (matvec/ and gemm/) and StageInput (matvec/ and moe/'s fused
// decode). Each family's launchers are declared in its own folder's header (matvec/matvec.h, …).
//
// Positions: kernels whose work depends on the sequence position (RoPE, attention, the KV-cache row an
// op writes) take `position` and an optional `dev_position` (int64 in device memory). When
// dev_position is set it wins, so a captured graph replays at whatever position the host stored there
// before the launch. No launcher synchronises: a whole decode step can be captured into a CUDA graph.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "engine/cuda/common/dev_weight.h"
#include "engine/weight_formats.h"

namespace hearth::engine::cuda {

// Host view of a WeightMatrix for kernels, and the fastest decoder valid for it (kernel_support.cpp).
DevWeight to_dev_weight(const WeightMatrix& w);
Codec pick_codec(const WeightMatrix& w);
const char* codec_name(Codec c);

struct DeviceInfo {
  int sm_count = 0;
  size_t max_smem_per_block = 0;  // opt-in limit
};
const DeviceInfo& device_info();  // of the current device, read once

// A strided float matrix view (mirrors engine::Tensor without depending on ops.h).
struct View {
  float* data = nullptr;
  int64_t rows = 0, cols = 0, stride = 0;
};

// ---- matmul: y (=|+=) x · Wᵀ ------------------------------------------------------------------------
struct MatmulLaunch {
  WeightMatrix w;  // device pointers
  const float* x = nullptr;
  int64_t x_stride = 0;
  float* y = nullptr;
  int64_t y_stride = 0;
  int64_t n = 0;  // rows of x
  bool accumulate = false;
  // Only launch_gemm_fast reads these: when set, the product's input is silu(x) · up (x the gate half),
  // formed while the activations are converted to bf16 — a dense MLP's down projection then needs no
  // SwiGLU kernel and no float32 round trip of its input.
  const float* swiglu_up = nullptr;
  int64_t up_stride = 0;
};
// Decode-sized batches (n <= kMatvecMaxTokens) run the matrix-vector kernels, larger ones the GEMMs.
constexpr int64_t kMatvecMaxTokens = 8;

// What a decode kernel does to its input vector while staging it in shared memory, so that the op
// producing it needs no kernel of its own:
//   none      x̂ = x
//   rms_norm  x̂ = x / sqrt(mean(x²) + eps) · norm_weight   (mean over all `cols`; every block recomputes it)
//   swiglu    x̂ = silu(x) · up                              (x is the gate half)
enum class StageTransform : int { none = 0, rms_norm = 1, swiglu = 2 };
struct StageInput {
  const float* x = nullptr;
  int64_t x_stride = 0;
  int64_t cols = 0;
  int64_t n = 0;  // tokens, 1..kMatvecMaxTokens
  StageTransform transform = StageTransform::none;
  const float* norm_weight = nullptr;  // rms_norm: [cols]
  float eps = 1e-6f;
  const float* up = nullptr;  // swiglu: [n, cols]
  int64_t up_stride = 0;
};

}  // namespace hearth::engine::cuda
