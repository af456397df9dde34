#pragma once
// Launchers of the element-wise and row-wise kernels (elementwise.cu): norms, RoPE, gates, SwiGLU,
// residual add, copies, the embedding gather, and the Gated DeltaNet's short convolution and
// gate activations. One thread (or one warp per row) per element; no weights beyond a norm's vector.
#include <cuda_runtime_api.h>

#include <cstdint>

#include "engine/cuda/common/types.h"

namespace hearth::engine::cuda {

void launch_rms_norm(View x, View out, const float* weight, int64_t dim, float eps, cudaStream_t stream);
void launch_gated_rms_norm(View x, View z, const float* weight, int64_t dim, float eps, cudaStream_t stream);
void launch_rope(View x, int64_t heads, int64_t head_dim, int64_t rotary_dim, int64_t first_position,
                 const int64_t* dev_position, float theta, cudaStream_t stream);
void launch_split_query_gate(View qg, int64_t heads, int64_t head_dim, View query, View gate, cudaStream_t stream);
void launch_sigmoid_mul(View x, View gate, cudaStream_t stream);
void launch_swiglu(View gate, View up, View out, cudaStream_t stream);
void launch_add(View x, View y, View row_gate, cudaStream_t stream);
void launch_copy(View src, View dst, cudaStream_t stream);
// Copies src (rows × cols) into dst rows [position, position + rows), position read from dev_position
// when given (the KV-cache append of a captured decode step).
void launch_copy_at_position(View src, float* dst, int64_t dst_stride, int64_t position,
                             const int64_t* dev_position, cudaStream_t stream);
void launch_embed(const WeightMatrix& table, const int32_t* dev_tokens, int64_t n, View out, cudaStream_t stream);

struct Conv1dLaunch {
  const float* x = nullptr;
  int64_t x_stride = 0;
  float* state = nullptr;
  const float* weight = nullptr;
  float* out = nullptr;
  int64_t out_stride = 0;
  int64_t n = 0, channels = 0, kernel = 4;
  bool silu = true;
};
void launch_conv1d(const Conv1dLaunch& p, cudaStream_t stream);

struct DeltaGatesLaunch {
  const float *a = nullptr, *b = nullptr;
  int64_t a_stride = 0, b_stride = 0;
  const float *a_log = nullptr, *dt_bias = nullptr;
  float *g = nullptr, *beta = nullptr;
  int64_t g_stride = 0, beta_stride = 0;
  int64_t n = 0, heads = 0;
};
void launch_delta_gates(const DeltaGatesLaunch& p, cudaStream_t stream);

}  // namespace hearth::engine::cuda
