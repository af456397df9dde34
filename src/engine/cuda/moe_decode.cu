// MoE routing and the fused decode path of the routed experts. The router's top-k indices stay in
// device memory and the expert kernels read them there, so a decode step never returns to the host:
//   kernel_route:          softmax over expert logits, top-k, renormalise (one warp per token);
//   kernel_moe_gate_up:    h[t][j] = silu(gate_e(x_t)) · up_e(x_t) for the k selected experts e only;
//   kernel_moe_down:       out[t] += Σ_j w[t][j] · down_e(h[t][j]).
// Bytes per token: k · (gate + up + down) expert matrices, nothing of the unselected experts.
#include <algorithm>

#include "engine/cuda/cuda_check.h"
#include "engine/cuda/kernels.h"
#include "engine/cuda/matvec_common.cuh"
#include "engine/cuda/smem_attr.h"

namespace hearth::engine::cuda {
namespace {

constexpr int kRouteMaxPerLane = 16;  // experts <= 512

__global__ void kernel_route(const RouteLaunch p) {
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int64_t t = static_cast<int64_t>(blockIdx.x) * (blockDim.x >> 5) + warp;
  if (t >= p.n) return;
  const float* logits = p.logits + t * p.logits_stride;
  float v[kRouteMaxPerLane];
  float mx = -INFINITY;
#pragma unroll
  for (int i = 0; i < kRouteMaxPerLane; ++i) {
    const int64_t e = i * 32 + lane;
    const float l = e < p.experts ? logits[e] : -INFINITY;
    v[i] = l == l ? l : -INFINITY;  // a NaN logit never wins (and never poisons the others)
    mx = fmaxf(mx, v[i]);
  }
  mx = warp_max(mx);
  float sum = 0.0f;
#pragma unroll
  for (int i = 0; i < kRouteMaxPerLane; ++i)
    if (i * 32 + lane < p.experts) sum += expf(v[i] - mx);
  sum = warp_sum(sum);

  float chosen_sum = 0.0f;
  float chosen_prob = 0.0f;  // lane j keeps the j-th choice's probability
  int chosen_index = 0;
  for (int j = 0; j < p.top_k; ++j) {
    float best = -INFINITY;
    int best_e = 0x7fffffff;
#pragma unroll
    for (int i = 0; i < kRouteMaxPerLane; ++i) {
      const int e = i * 32 + lane;
      if (v[i] > best) best = v[i], best_e = e;  // ascending e: first of equals kept
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
      const float ob = __shfl_xor_sync(0xffffffffu, best, o);
      const int oe = __shfl_xor_sync(0xffffffffu, best_e, o);
      if (ob > best || (ob == best && oe < best_e)) best = ob, best_e = oe;
    }
#pragma unroll
    for (int i = 0; i < kRouteMaxPerLane; ++i)
      if (i * 32 + lane == best_e) v[i] = -INFINITY;
    if (best_e >= p.experts) best_e = j;  // no finite logit left: any valid index keeps reads in bounds
    const float prob = expf(best - mx) / sum;
    chosen_sum += prob;
    if (lane == j) chosen_prob = prob, chosen_index = best_e;
  }
  if (lane < p.top_k) {
    p.indices[t * p.top_k + lane] = chosen_index;
    p.weights[t * p.top_k + lane] = p.normalize ? chosen_prob / chosen_sum : chosen_prob;
  }
}

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kRowsPerWarp = 2;

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

// grid (row blocks of inter, top_k, tokens)
template <Codec C>
__global__ void __launch_bounds__(kThreads) kernel_moe_gate_up(const MoeDecodeParams p) {
  extern __shared__ float4 xs[];
  const int t = blockIdx.z, j = blockIdx.y;
  const int64_t cc = (p.gate.cols + 31) / 32;
  stage_vectors(xs, p.x + t * p.x_stride, 0, 1, cc, p.gate.cols);
  __syncthreads();
  const int e = p.indices[t * p.top_k + j];
  const DevWeight wg = with_expert(p.gate, p.g_data, p.g_scales, p.g_biases, e);
  const DevWeight wu = with_expert(p.up, p.u_data, p.u_scales, p.u_biases, e);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int64_t r0 = (static_cast<int64_t>(blockIdx.x) * kWarps + warp) * kRowsPerWarp;
  float ga[kRowsPerWarp] = {}, ua[kRowsPerWarp] = {};
#pragma unroll 2
  for (int64_t c = lane; c < cc; c += 32) {
#pragma unroll
    for (int rr = 0; rr < kRowsPerWarp; ++rr) {
      if (r0 + rr < wg.rows) {
        float wv[32];
        decode_chunk<C>(wg, r0 + rr, c, wv);
        ga[rr] += dot_staged_chunk(wv, xs, c);
        decode_chunk<C>(wu, r0 + rr, c, wv);
        ua[rr] += dot_staged_chunk(wv, xs, c);
      }
    }
  }
#pragma unroll
  for (int rr = 0; rr < kRowsPerWarp; ++rr) {
    const float g = warp_sum(ga[rr]), u = warp_sum(ua[rr]);
    if (lane == 0 && r0 + rr < wg.rows) p.h[(static_cast<int64_t>(t) * p.top_k + j) * wg.rows + r0 + rr] = silu(g) * u;
  }
}

// grid (row blocks of hidden, tokens)
template <Codec C>
__global__ void __launch_bounds__(kThreads) kernel_moe_down(const MoeDecodeParams p) {
  extern __shared__ float4 hs[];  // top_k staged vectors of inter floats
  __shared__ int experts[kMoeMaxTopK];
  __shared__ float gates[kMoeMaxTopK];
  const int t = blockIdx.y;
  const int64_t inter = p.down.cols;
  const int64_t cc = (inter + 31) / 32;
  stage_vectors(hs, p.h + static_cast<int64_t>(t) * p.top_k * inter, inter, p.top_k, cc, inter);
  if (threadIdx.x < p.top_k) {
    experts[threadIdx.x] = p.indices[t * p.top_k + threadIdx.x];
    gates[threadIdx.x] = p.weights[t * p.top_k + threadIdx.x];
  }
  __syncthreads();
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int64_t r0 = (static_cast<int64_t>(blockIdx.x) * kWarps + warp) * kRowsPerWarp;
  float acc[kRowsPerWarp] = {};
  for (int j = 0; j < p.top_k; ++j) {
    const DevWeight wd = with_expert(p.down, p.d_data, p.d_scales, p.d_biases, experts[j]);
    const float4* hj = hs + static_cast<int64_t>(j) * cc * 8;
    float part[kRowsPerWarp] = {};
#pragma unroll 2
    for (int64_t c = lane; c < cc; c += 32) {
#pragma unroll
      for (int rr = 0; rr < kRowsPerWarp; ++rr) {
        if (r0 + rr < wd.rows) {
          float wv[32];
          decode_chunk<C>(wd, r0 + rr, c, wv);
          part[rr] += dot_staged_chunk(wv, hj, c);
        }
      }
    }
#pragma unroll
    for (int rr = 0; rr < kRowsPerWarp; ++rr) acc[rr] = fmaf(gates[j], part[rr], acc[rr]);
  }
#pragma unroll
  for (int rr = 0; rr < kRowsPerWarp; ++rr) {
    const float v = warp_sum(acc[rr]);
    if (lane == 0 && r0 + rr < p.down.rows) p.out[static_cast<int64_t>(t) * p.out_stride + r0 + rr] += v;
  }
}

template <Codec C>
void launch_gate_up(const MoeDecodeParams& mp, int64_t n, cudaStream_t stream) {
  const size_t smem = static_cast<size_t>((mp.gate.cols + 31) / 32) * 32 * sizeof(float);
  ensure_dynamic_smem(reinterpret_cast<const void*>(kernel_moe_gate_up<C>), smem);
  const dim3 grid(static_cast<unsigned>((mp.gate.rows + kWarps * kRowsPerWarp - 1) / (kWarps * kRowsPerWarp)),
                  static_cast<unsigned>(mp.top_k), static_cast<unsigned>(n));
  kernel_moe_gate_up<C><<<grid, kThreads, smem, stream>>>(mp);
  HEARTH_CUDA_LAUNCH_CHECK();
}

template <Codec C>
void launch_down(const MoeDecodeParams& mp, int64_t n, cudaStream_t stream) {
  const size_t smem = static_cast<size_t>(mp.top_k) * ((mp.down.cols + 31) / 32) * 32 * sizeof(float);
  ensure_dynamic_smem(reinterpret_cast<const void*>(kernel_moe_down<C>), smem);
  const dim3 grid(static_cast<unsigned>((mp.down.rows + kWarps * kRowsPerWarp - 1) / (kWarps * kRowsPerWarp)),
                  static_cast<unsigned>(n));
  kernel_moe_down<C><<<grid, kThreads, smem, stream>>>(mp);
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
  kernel_route<<<blocks, warps * 32, 0, stream>>>(p);
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
