// MoE routing and the fused decode path of the routed experts. The router's top-k indices stay in
// device memory and the expert kernels read them there, so a decode step never returns to the host:
//   kernel_route:          softmax over expert logits, top-k, renormalise (one warp per token);
//   kernel_moe_gate_up:    h[t][j] = silu(gate_e(x_t)) · up_e(x_t) for the k selected experts e only;
//   kernel_moe_down:       out[t] += Σ_j w[t][j] · down_e(h[t][j]).
// Both spread each row over several threads (row_reduce.cuh) so that 8 experts × 512 rows fill the GPU.
// Bytes per token: k · (gate + up + down) expert matrices, nothing of the unselected experts.
#include <algorithm>

#include "engine/cuda/common/cuda_check.h"
#include "engine/cuda/common/launch.cuh"
#include "engine/cuda/common/matvec_common.cuh"
#include "engine/cuda/common/row_reduce.cuh"
#include "engine/cuda/common/smem_attr.h"
#include "engine/cuda/moe/moe.h"
#include "engine/cuda/moe/route_warp.cuh"

namespace hearth::engine::cuda {
namespace {

__global__ void kernel_route(const RouteLaunch p) {
  pdl_begin();  // launch.cuh: wait for the previous kernel before touching memory
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int64_t t = static_cast<int64_t>(blockIdx.x) * (blockDim.x >> 5) + warp;
  if (t >= p.n) return;
  const RouteChoice c = route_token_warp(p.logits + t * p.logits_stride, p.experts, p.top_k, p.normalize);
  if (lane < p.top_k) {
    p.indices[t * p.top_k + lane] = c.index;
    p.weights[t * p.top_k + lane] = c.weight;
  }
}

struct MoeDecodeParams {
  DevWeight gate, up, down;  // shapes; pointers come from the tables
  const uint8_t* const* g_data;
  const uint8_t* const* g_scales;
  const uint8_t* const* g_biases;
  const uint8_t* const* u_data;
  const uint8_t* const* u_scales;
  const uint8_t* const* u_biases;
  const uint8_t* const* d_data;
  const uint8_t* const* d_scales;
  const uint8_t* const* d_biases;
  const float* x;
  int64_t x_stride;
  const int32_t* indices;
  const float* weights;
  int top_k;
  int tpr;   // threads per row (row_reduce.cuh)
  float* h;  // [n][top_k][inter]
  float* out;
  int64_t out_stride;
};

__device__ __forceinline__ DevWeight with_expert(DevWeight w, const uint8_t* const* d, const uint8_t* const* s,
                                                 const uint8_t* const* b, int e) {
  w.data = d[e];
  w.scales = s ? s[e] : nullptr;
  w.biases = b ? b[e] : nullptr;
  return w;
}

__device__ __forceinline__ float silu(float v) { return v / (1.0f + expf(-v)); }

constexpr int kGateUpUnroll = 2;

// The k selected experts' gate and up rows as one virtual matrix of k · inter rows (row v: expert
// slot v / inter, row v % inter), both dots per thread. grid (row blocks, tokens).
template <Codec C>
__global__ void __launch_bounds__(kRowThreads) kernel_moe_gate_up(const MoeDecodeParams p) {
  pdl_begin();  // launch.cuh: wait for the previous kernel before touching memory
  extern __shared__ float4 xs[];
  __shared__ float scratch[kRowThreads / 32];
  const int t = blockIdx.y;
  const int64_t cc = (p.gate.cols + 31) / 32, inter = p.gate.rows, rows = inter * p.top_k;
  stage_vectors(xs, p.x + t * p.x_stride, 0, 1, cc, p.gate.cols);
  __syncthreads();
  const int tpr = p.tpr, rows_per_pass = kRowThreads / tpr;
  const int sub = threadIdx.x & (tpr - 1), slot = threadIdx.x / tpr;
  const int64_t rows_per_block = static_cast<int64_t>(rows_per_pass) * kGateUpUnroll;
  for (int64_t base = static_cast<int64_t>(blockIdx.x) * rows_per_block; base < rows;
       base += static_cast<int64_t>(gridDim.x) * rows_per_block) {
    float ga[kGateUpUnroll] = {}, ua[kGateUpUnroll] = {};
    DevWeight wg[kGateUpUnroll], wu[kGateUpUnroll];
    int64_t rr[kGateUpUnroll];
#pragma unroll
    for (int u = 0; u < kGateUpUnroll; ++u) {
      const int64_t v = base + u * rows_per_pass + slot;
      const int j = static_cast<int>(min(v, rows - 1) / inter);
      const int e = p.indices[t * p.top_k + j];
      wg[u] = with_expert(p.gate, p.g_data, p.g_scales, p.g_biases, e);
      wu[u] = with_expert(p.up, p.u_data, p.u_scales, p.u_biases, e);
      rr[u] = v - static_cast<int64_t>(j) * inter;
    }
    for (int64_t c = sub; c < cc; c += tpr) {
#pragma unroll
      for (int u = 0; u < kGateUpUnroll; ++u) {
        if (base + u * rows_per_pass + slot < rows) {
          float wv[32];
          decode_chunk<C>(wg[u], rr[u], c, wv);
          ga[u] += dot_staged_chunk(wv, xs, c);
          decode_chunk<C>(wu[u], rr[u], c, wv);
          ua[u] += dot_staged_chunk(wv, xs, c);
        }
      }
    }
#pragma unroll
    for (int u = 0; u < kGateUpUnroll; ++u) {
      const float g = row_sum(ga[u], tpr, scratch);
      const float up = row_sum(ua[u], tpr, scratch);
      const int64_t v = base + u * rows_per_pass + slot;
      if (sub == 0 && v < rows) p.h[static_cast<int64_t>(t) * rows + v] = silu(g) * up;
    }
  }
}

// out[t][r] += Σ_j w_j · down_e_j[r] · h[t][j]: the row's "columns" are the k experts' inter values in
// turn, so one reduction covers every selected expert. grid (row blocks, tokens).
template <Codec C>
__global__ void __launch_bounds__(kRowThreads) kernel_moe_down(const MoeDecodeParams p) {
  pdl_begin();  // launch.cuh: wait for the previous kernel before touching memory
  extern __shared__ float4 hs[];  // top_k staged vectors of inter floats
  __shared__ float scratch[kRowThreads / 32];
  __shared__ const uint8_t* e_data[kMoeMaxTopK];
  __shared__ const uint8_t* e_scales[kMoeMaxTopK];
  __shared__ const uint8_t* e_biases[kMoeMaxTopK];
  __shared__ float gates[kMoeMaxTopK];
  const int t = blockIdx.y;
  const int64_t inter = p.down.cols, cpe = (inter + 31) / 32, vcc = cpe * p.top_k;
  stage_vectors(hs, p.h + static_cast<int64_t>(t) * p.top_k * inter, inter, p.top_k, cpe, inter);
  if (threadIdx.x < p.top_k) {
    const int e = p.indices[t * p.top_k + threadIdx.x];
    e_data[threadIdx.x] = p.d_data[e];
    e_scales[threadIdx.x] = p.d_scales ? p.d_scales[e] : nullptr;
    e_biases[threadIdx.x] = p.d_biases ? p.d_biases[e] : nullptr;
    gates[threadIdx.x] = p.weights[t * p.top_k + threadIdx.x];
  }
  __syncthreads();
  const int tpr = p.tpr, rows_per_pass = kRowThreads / tpr;
  const int sub = threadIdx.x & (tpr - 1), slot = threadIdx.x / tpr;
  for (int64_t base = static_cast<int64_t>(blockIdx.x) * rows_per_pass; base < p.down.rows;
       base += static_cast<int64_t>(gridDim.x) * rows_per_pass) {
    const int64_t r = base + slot;
    float acc = 0.0f;
    if (r < p.down.rows) {
      for (int64_t vc = sub; vc < vcc; vc += tpr) {
        const int j = static_cast<int>(vc / cpe);
        const int64_t c = vc - j * cpe;
        DevWeight w = p.down;
        w.data = e_data[j], w.scales = e_scales[j], w.biases = e_biases[j];
        float wv[32];
        decode_chunk<C>(w, r, c, wv);
        acc = fmaf(gates[j], dot_staged_chunk(wv, hs + j * cpe * 8, c), acc);
      }
    }
    const float v = row_sum(acc, tpr, scratch);
    if (sub == 0 && r < p.down.rows) p.out[static_cast<int64_t>(t) * p.out_stride + r] += v;
  }
}

unsigned row_blocks(int64_t rows, int tpr, int unroll) {
  const int64_t per = static_cast<int64_t>(kRowThreads / tpr) * unroll;
  return static_cast<unsigned>(std::min<int64_t>((rows + per - 1) / per, int64_t{device_info().sm_count} * 4));
}

template <Codec C>
void launch_gate_up(MoeDecodeParams mp, int64_t n, cudaStream_t stream) {
  const int64_t cc = (mp.gate.cols + 31) / 32;
  mp.tpr = threads_per_row(cc);
  const size_t smem = static_cast<size_t>(cc) * 32 * sizeof(float);
  ensure_dynamic_smem(reinterpret_cast<const void*>(kernel_moe_gate_up<C>), smem);
  const dim3 grid(row_blocks(mp.gate.rows * mp.top_k, mp.tpr, kGateUpUnroll), static_cast<unsigned>(n));
  launch_pdl(kernel_moe_gate_up<C>, grid, kRowThreads, smem, stream, mp);
  HEARTH_CUDA_LAUNCH_CHECK();
}

template <Codec C>
void launch_down(MoeDecodeParams mp, int64_t n, cudaStream_t stream) {
  const int64_t cpe = (mp.down.cols + 31) / 32;
  mp.tpr = threads_per_row(cpe * mp.top_k);
  const size_t smem = static_cast<size_t>(mp.top_k) * cpe * 32 * sizeof(float);
  ensure_dynamic_smem(reinterpret_cast<const void*>(kernel_moe_down<C>), smem);
  const dim3 grid(row_blocks(mp.down.rows, mp.tpr, 1), static_cast<unsigned>(n));
  launch_pdl(kernel_moe_down<C>, grid, kRowThreads, smem, stream, mp);
  HEARTH_CUDA_LAUNCH_CHECK();
}

}  // namespace

void launch_route(const RouteLaunch& p, cudaStream_t stream) {
  if (p.n <= 0) return;
  if (p.experts > 32 * kRouteMaxPerLane || p.top_k > 32 || p.top_k > p.experts)
    throw Error("CUDA router: " + std::to_string(p.experts) + " experts / top " + std::to_string(p.top_k) +
                    " is outside what the kernel handles (<= 512 experts, top-k <= 32)",
                ErrorKind::unsupported);
  const int warps = 4;
  const unsigned blocks = static_cast<unsigned>((p.n + warps - 1) / warps);
  launch_pdl(kernel_route, blocks, warps * 32, 0, stream, p);
  HEARTH_CUDA_LAUNCH_CHECK();
}

void launch_moe_decode(const MoeLaunch& p, cudaStream_t stream) {
  MoeDecodeParams mp;
  mp.gate = to_dev_weight(p.gate.shape);
  mp.up = to_dev_weight(p.up.shape);
  mp.down = to_dev_weight(p.down.shape);
  mp.g_data = p.gate.data, mp.g_scales = p.gate.scales, mp.g_biases = p.gate.biases;
  mp.u_data = p.up.data, mp.u_scales = p.up.scales, mp.u_biases = p.up.biases;
  mp.d_data = p.down.data, mp.d_scales = p.down.scales, mp.d_biases = p.down.biases;
  mp.x = p.x;
  mp.x_stride = p.x_stride;
  mp.indices = p.indices;
  mp.weights = p.weights;
  mp.top_k = static_cast<int>(p.top_k);
  mp.h = static_cast<float*>(p.workspace);
  mp.out = p.out;
  mp.out_stride = p.out_stride;
  // gate and up share one kernel, so they share a decoder: the fast one only if valid for both.
  const Codec gu = (p.gate.codec == p.up.codec) ? p.gate.codec : Codec::generic;
  switch (gu) {
    case Codec::affine4: launch_gate_up<Codec::affine4>(mp, p.n, stream); break;
    case Codec::affine8: launch_gate_up<Codec::affine8>(mp, p.n, stream); break;
    case Codec::fp4: launch_gate_up<Codec::fp4>(mp, p.n, stream); break;
    case Codec::bf16: launch_gate_up<Codec::bf16>(mp, p.n, stream); break;
    case Codec::generic: launch_gate_up<Codec::generic>(mp, p.n, stream); break;
  }
  switch (p.down.codec) {
    case Codec::affine4: launch_down<Codec::affine4>(mp, p.n, stream); break;
    case Codec::affine8: launch_down<Codec::affine8>(mp, p.n, stream); break;
    case Codec::fp4: launch_down<Codec::fp4>(mp, p.n, stream); break;
    case Codec::bf16: launch_down<Codec::bf16>(mp, p.n, stream); break;
    case Codec::generic: launch_down<Codec::generic>(mp, p.n, stream); break;
  }
}

}  // namespace hearth::engine::cuda
