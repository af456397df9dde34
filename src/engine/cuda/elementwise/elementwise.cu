// The small ops: norms, RoPE, gates, SwiGLU, adds, copies, the depthwise causal conv1d, the DeltaNet
// gates and the embedding lookup. All are memory-bound one-pass kernels over strided float
// rows; none reads anything twice.
#include <algorithm>

#include "engine/cuda/common/cuda_check.h"
#include "engine/cuda/common/device_weights.cuh"
#include "engine/cuda/common/launch.cuh"
#include "engine/cuda/elementwise/elementwise.h"

namespace hearth::engine::cuda {
namespace {

__device__ __forceinline__ float sigmoidf_(float v) { return 1.0f / (1.0f + expf(-v)); }

unsigned blocks_for(int64_t items, int threads) {
  const int64_t want = (items + threads - 1) / threads;
  return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(want, int64_t{device_info().sm_count} * 32)));
}

// ---- norms: one warp per (row, group) ----
__global__ void kernel_rms_norm(View x, View out, const float* weight, int64_t dim, float eps) {
  pdl_begin();  // launch.cuh: wait for the previous kernel before touching memory
  const int64_t groups = x.cols / dim;
  const int64_t item = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  const int lane = threadIdx.x & 31;
  if (item >= x.rows * groups) return;
  const int64_t r = item / groups, g = item - r * groups;
  const float* src = x.data + r * x.stride + g * dim;
  float* dst = out.data + r * out.stride + g * dim;
  float ss = 0.0f;
  for (int64_t d = lane; d < dim; d += 32) ss = fmaf(src[d], src[d], ss);
  const float inv = rsqrtf(warp_sum(ss) / static_cast<float>(dim) + eps);
  for (int64_t d = lane; d < dim; d += 32) dst[d] = src[d] * inv * weight[d];
}

// Wide groups (the hidden size): a block per (row, group), so one token's norm is not one warp's
// sequential walk over thousands of values.
__global__ void kernel_rms_norm_block(View x, View out, const float* weight, int64_t dim, float eps) {
  pdl_begin();  // launch.cuh: wait for the previous kernel before touching memory
  __shared__ float partial[32];
  const int64_t groups = x.cols / dim;
  const int64_t r = blockIdx.x / groups, g = blockIdx.x - r * groups;
  const float* src = x.data + r * x.stride + g * dim;
  float* dst = out.data + r * out.stride + g * dim;
  float ss = 0.0f;
  for (int64_t d = threadIdx.x; d < dim; d += blockDim.x) ss = fmaf(src[d], src[d], ss);
  ss = warp_sum(ss);
  if ((threadIdx.x & 31) == 0) partial[threadIdx.x >> 5] = ss;
  __syncthreads();
  float total = 0.0f;
  for (int w = 0; w < static_cast<int>(blockDim.x >> 5); ++w) total += partial[w];
  const float inv = rsqrtf(total / static_cast<float>(dim) + eps);
  for (int64_t d = threadIdx.x; d < dim; d += blockDim.x) dst[d] = src[d] * inv * weight[d];
}

__global__ void kernel_gated_rms_norm(View x, View z, const float* weight, int64_t dim, float eps) {
  pdl_begin();  // launch.cuh: wait for the previous kernel before touching memory
  const int64_t groups = x.cols / dim;
  const int64_t item = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  const int lane = threadIdx.x & 31;
  if (item >= x.rows * groups) return;
  const int64_t r = item / groups, g = item - r * groups;
  float* xs = x.data + r * x.stride + g * dim;
  const float* zs = z.data + r * z.stride + g * dim;
  float ss = 0.0f;
  for (int64_t d = lane; d < dim; d += 32) ss = fmaf(xs[d], xs[d], ss);
  const float inv = rsqrtf(warp_sum(ss) / static_cast<float>(dim) + eps);
  for (int64_t d = lane; d < dim; d += 32) {
    const float zv = zs[d];
    xs[d] = weight[d] * (xs[d] * inv) * (zv * sigmoidf_(zv));
  }
}

// ---- RoPE (rotate-half), one thread per (row, head, pair) ----
__global__ void kernel_rope(View x, int64_t heads, int64_t head_dim, int64_t rotary_dim, int64_t first_position,
                            const int64_t* dev_position, float theta) {
  pdl_begin();  // launch.cuh: wait for the previous kernel before touching memory
  const int64_t half = rotary_dim / 2;
  const int64_t total = x.rows * heads * half;
  const int64_t base = dev_position ? *dev_position : first_position;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = i / (heads * half), rem = i - r * heads * half, h = rem / half, k = rem - h * half;
    // As the CPU reference (and transformers): the exponent in float32, the power in double, the inverse
    // frequency and the angle in float32.
    const float e = static_cast<float>(2 * k) / static_cast<float>(rotary_dim);
    const float inv_freq = 1.0f / static_cast<float>(pow(static_cast<double>(theta), static_cast<double>(e)));
    const float angle = static_cast<float>(base + r) * inv_freq;
    float s, c;
    sincosf(angle, &s, &c);
    float* v = x.data + r * x.stride + h * head_dim;
    const float a = v[k], b = v[k + half];
    v[k] = a * c - b * s;
    v[k + half] = b * c + a * s;
  }
}

// ---- elementwise over strided matrices ----
__global__ void kernel_split_query_gate(View qg, int64_t heads, int64_t head_dim, View query, View gate) {
  pdl_begin();  // launch.cuh: wait for the previous kernel before touching memory
  const int64_t cols = heads * head_dim, total = qg.rows * cols;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = i / cols, c = i - r * cols, h = c / head_dim, d = c - h * head_dim;
    const float* src = qg.data + r * qg.stride + h * 2 * head_dim;
    query.data[r * query.stride + c] = src[d];
    gate.data[r * gate.stride + c] = src[head_dim + d];
  }
}

__global__ void kernel_sigmoid_mul(View x, View gate) {
  pdl_begin();  // launch.cuh: wait for the previous kernel before touching memory
  const int64_t total = x.rows * x.cols;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = i / x.cols, c = i - r * x.cols;
    x.data[r * x.stride + c] *= sigmoidf_(gate.data[r * gate.stride + c]);
  }
}

__global__ void kernel_swiglu(View gate, View up, View out) {
  pdl_begin();  // launch.cuh: wait for the previous kernel before touching memory
  const int64_t total = gate.rows * gate.cols;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = i / gate.cols, c = i - r * gate.cols;
    const float g = gate.data[r * gate.stride + c];
    out.data[r * out.stride + c] = g * sigmoidf_(g) * up.data[r * up.stride + c];
  }
}

__global__ void kernel_add(View x, View y, View row_gate) {
  pdl_begin();  // launch.cuh: wait for the previous kernel before touching memory
  const int64_t total = x.rows * x.cols;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = i / x.cols, c = i - r * x.cols;
    float v = y.data[r * y.stride + c];
    if (row_gate.data) v *= sigmoidf_(row_gate.data[r * row_gate.stride]);
    x.data[r * x.stride + c] += v;
  }
}

__global__ void kernel_copy(View src, View dst) {
  pdl_begin();  // launch.cuh: wait for the previous kernel before touching memory
  const int64_t total = src.rows * src.cols;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = i / src.cols, c = i - r * src.cols;
    dst.data[r * dst.stride + c] = src.data[r * src.stride + c];
  }
}

__global__ void kernel_copy_at_position(View src, float* dst, int64_t dst_stride, int64_t position,
                                        const int64_t* dev_position) {
  pdl_begin();  // launch.cuh: wait for the previous kernel before touching memory
  const int64_t base = dev_position ? *dev_position : position;
  const int64_t total = src.rows * src.cols;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = i / src.cols, c = i - r * src.cols;
    dst[(base + r) * dst_stride + c] = src.data[r * src.stride + c];
  }
}

// ---- depthwise causal conv1d ----
constexpr int kMaxKernel = 8;

// Few tokens: a thread per channel carries the window through the tokens and writes the new state.
__global__ void kernel_conv1d_sequential(const Conv1dLaunch p) {
  pdl_begin();  // launch.cuh: wait for the previous kernel before touching memory
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= p.channels) return;
  const int K = static_cast<int>(p.kernel);
  float win[kMaxKernel];
  float w[kMaxKernel];
#pragma unroll
  for (int k = 0; k < kMaxKernel; ++k) {
    win[k] = (k < K - 1) ? p.state[k * p.channels + c] : 0.0f;
    w[k] = (k < K) ? p.weight[c * K + k] : 0.0f;
  }
  for (int64_t t = 0; t < p.n; ++t) {
    const float xt = p.x[t * p.x_stride + c];
    float acc = 0.0f;
#pragma unroll
    for (int k = 0; k < kMaxKernel; ++k) {
      if (k < K - 1) acc = fmaf(w[k], win[k], acc);
    }
#pragma unroll
    for (int k = 0; k < kMaxKernel; ++k)
      if (k == K - 1) acc = fmaf(w[k], xt, acc);
#pragma unroll
    for (int k = 0; k + 1 < kMaxKernel; ++k)
      if (k < K - 2) win[k] = win[k + 1];
#pragma unroll
    for (int k = 0; k < kMaxKernel; ++k)
      if (k == K - 2) win[k] = xt;
    p.out[t * p.out_stride + c] = p.silu ? acc * sigmoidf_(acc) : acc;
  }
#pragma unroll
  for (int k = 0; k < kMaxKernel; ++k)
    if (k < K - 1) p.state[k * p.channels + c] = win[k];
}

// Many tokens: outputs in parallel over (token, channel), reading the old state for the first K-1...
__global__ void kernel_conv1d_outputs(const Conv1dLaunch p) {
  pdl_begin();  // launch.cuh: wait for the previous kernel before touching memory
  const int64_t total = p.n * p.channels;
  const int K = static_cast<int>(p.kernel);
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t t = i / p.channels, c = i - t * p.channels;
    float acc = 0.0f;
    for (int k = 0; k < K; ++k) {
      const int64_t tau = t - (K - 1) + k;
      const float in = tau >= 0 ? p.x[tau * p.x_stride + c] : p.state[(K - 1 + tau) * p.channels + c];
      acc = fmaf(p.weight[c * K + k], in, acc);
    }
    p.out[t * p.out_stride + c] = p.silu ? acc * sigmoidf_(acc) : acc;
  }
}

// ...then the new state (the last K-1 inputs), once every output has read the old one.
__global__ void kernel_conv1d_state(const Conv1dLaunch p) {
  pdl_begin();  // launch.cuh: wait for the previous kernel before touching memory
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= p.channels) return;
  const int K = static_cast<int>(p.kernel);
  float next[kMaxKernel];
#pragma unroll
  for (int s = 0; s < kMaxKernel; ++s) {
    if (s < K - 1) {
      const int64_t tau = p.n - (K - 1) + s;
      next[s] = tau >= 0 ? p.x[tau * p.x_stride + c] : p.state[(p.n + s) * p.channels + c];
    }
  }
#pragma unroll
  for (int s = 0; s < kMaxKernel; ++s)
    if (s < K - 1) p.state[s * p.channels + c] = next[s];
}

__global__ void kernel_delta_gates(const DeltaGatesLaunch p) {
  pdl_begin();  // launch.cuh: wait for the previous kernel before touching memory
  const int64_t total = p.n * p.heads;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t t = i / p.heads, h = i - t * p.heads;
    const float a = p.a[t * p.a_stride + h] + p.dt_bias[h];
    const float softplus = a > 20.0f ? a : log1pf(expf(a));
    p.g[t * p.g_stride + h] = -expf(p.a_log[h]) * softplus;
    p.beta[t * p.beta_stride + h] = sigmoidf_(p.b[t * p.b_stride + h]);
  }
}

__global__ void kernel_embed(DevWeight table, const int32_t* tokens, int64_t n, View out) {
  pdl_begin();  // launch.cuh: wait for the previous kernel before touching memory
  const int64_t total = n * table.cols;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t t = i / table.cols, c = i - t * table.cols;
    out.data[t * out.stride + c] = dev_weight_element(table, tokens[t], c);
  }
}

}  // namespace

void launch_rms_norm(View x, View out, const float* weight, int64_t dim, float eps, cudaStream_t stream) {
  const int64_t warps = x.rows * (x.cols / dim);
  if (warps <= 0) return;
  if (dim >= 1024) {
    launch_pdl(kernel_rms_norm_block, static_cast<unsigned>(warps), 256, 0, stream, x, out, weight, dim, eps);
  } else {
    launch_pdl(kernel_rms_norm, static_cast<unsigned>((warps + 7) / 8), 256, 0, stream, x, out, weight, dim, eps);
  }
  HEARTH_CUDA_LAUNCH_CHECK();
}

void launch_gated_rms_norm(View x, View z, const float* weight, int64_t dim, float eps, cudaStream_t stream) {
  const int64_t warps = x.rows * (x.cols / dim);
  if (warps <= 0) return;
  launch_pdl(kernel_gated_rms_norm, static_cast<unsigned>((warps + 7) / 8), 256, 0, stream, x, z, weight, dim, eps);
  HEARTH_CUDA_LAUNCH_CHECK();
}

void launch_rope(View x, int64_t heads, int64_t head_dim, int64_t rotary_dim, int64_t first_position,
                 const int64_t* dev_position, float theta, cudaStream_t stream) {
  const int64_t items = x.rows * heads * (rotary_dim / 2);
  if (items <= 0) return;
  launch_pdl(kernel_rope, blocks_for(items, 256), 256, 0, stream, x, heads, head_dim, rotary_dim, first_position,
                                                          dev_position, theta);
  HEARTH_CUDA_LAUNCH_CHECK();
}

void launch_split_query_gate(View qg, int64_t heads, int64_t head_dim, View query, View gate, cudaStream_t stream) {
  const int64_t items = qg.rows * heads * head_dim;
  if (items <= 0) return;
  launch_pdl(kernel_split_query_gate, blocks_for(items, 256), 256, 0, stream, qg, heads, head_dim, query, gate);
  HEARTH_CUDA_LAUNCH_CHECK();
}

void launch_sigmoid_mul(View x, View gate, cudaStream_t stream) {
  if (x.rows * x.cols <= 0) return;
  launch_pdl(kernel_sigmoid_mul, blocks_for(x.rows * x.cols, 256), 256, 0, stream, x, gate);
  HEARTH_CUDA_LAUNCH_CHECK();
}

void launch_swiglu(View gate, View up, View out, cudaStream_t stream) {
  if (gate.rows * gate.cols <= 0) return;
  launch_pdl(kernel_swiglu, blocks_for(gate.rows * gate.cols, 256), 256, 0, stream, gate, up, out);
  HEARTH_CUDA_LAUNCH_CHECK();
}

void launch_add(View x, View y, View row_gate, cudaStream_t stream) {
  if (x.rows * x.cols <= 0) return;
  launch_pdl(kernel_add, blocks_for(x.rows * x.cols, 256), 256, 0, stream, x, y, row_gate);
  HEARTH_CUDA_LAUNCH_CHECK();
}

void launch_copy(View src, View dst, cudaStream_t stream) {
  if (src.rows * src.cols <= 0) return;
  launch_pdl(kernel_copy, blocks_for(src.rows * src.cols, 256), 256, 0, stream, src, dst);
  HEARTH_CUDA_LAUNCH_CHECK();
}

void launch_copy_at_position(View src, float* dst, int64_t dst_stride, int64_t position,
                             const int64_t* dev_position, cudaStream_t stream) {
  if (src.rows * src.cols <= 0) return;
  launch_pdl(kernel_copy_at_position, blocks_for(src.rows * src.cols, 256), 256, 0, stream, src, dst, dst_stride, position,
                                                                                     dev_position);
  HEARTH_CUDA_LAUNCH_CHECK();
}

void launch_conv1d(const Conv1dLaunch& p, cudaStream_t stream) {
  if (p.n <= 0 || p.channels <= 0) return;
  if (p.kernel < 1 || p.kernel > kMaxKernel)
    throw Error("CUDA conv1d: kernel size " + std::to_string(p.kernel) + " not supported (1..8)",
                ErrorKind::unsupported);
  const unsigned channel_blocks = static_cast<unsigned>((p.channels + 127) / 128);
  if (p.n <= 4) {
    launch_pdl(kernel_conv1d_sequential, channel_blocks, 128, 0, stream, p);
    HEARTH_CUDA_LAUNCH_CHECK();
    return;
  }
  launch_pdl(kernel_conv1d_outputs, blocks_for(p.n * p.channels, 256), 256, 0, stream, p);
  HEARTH_CUDA_LAUNCH_CHECK();
  launch_pdl(kernel_conv1d_state, channel_blocks, 128, 0, stream, p);
  HEARTH_CUDA_LAUNCH_CHECK();
}

void launch_delta_gates(const DeltaGatesLaunch& p, cudaStream_t stream) {
  if (p.n * p.heads <= 0) return;
  launch_pdl(kernel_delta_gates, blocks_for(p.n * p.heads, 256), 256, 0, stream, p);
  HEARTH_CUDA_LAUNCH_CHECK();
}

void launch_embed(const WeightMatrix& table, const int32_t* dev_tokens, int64_t n, View out, cudaStream_t stream) {
  if (n <= 0) return;
  launch_pdl(kernel_embed, blocks_for(n * table.cols, 256), 256, 0, stream, to_dev_weight(table), dev_tokens, n, out);
  HEARTH_CUDA_LAUNCH_CHECK();
}

}  // namespace hearth::engine::cuda
