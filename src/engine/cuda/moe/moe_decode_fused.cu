// The whole MoE block of a decode step (moe.h: launch_moe_decode_fused) in two kernels, after the
// router's matrix-vector launch:
//   kernel_moe_fused_gate_up  every block routes its token from the router logits (warp 0; block 0
//                             also writes indices/weights, the last block's last warp the shared
//                             expert's sigmoid gate) while its other warps stage x̂ (the StageInput
//                             transform, e.g. the post-attention RMSNorm), and computes
//                             h[t][v] = silu(gate_v · x̂) · (up_v · x̂) for the virtual rows v of the k
//                             chosen experts followed by the shared expert's rows;
//   kernel_moe_fused_down     out[t][r] += Σ_j w_j · down_j[r] · h_j  + σ · shared_down[r] · h_s, one warp
//                             per output row over all k + 1 contributions: a fixed summation order, so
//                             the result is deterministic, and accumulated straight into the residual.
// Nothing is zeroed and nothing returns to the host. Bytes per token: k · (gate + up + down) expert
// matrices plus the shared expert, read once each.
//
// Inner loop: a warp owns whole rows (one per task; in gate/up the gate and up rows of one index
// together, so silu(g)·u is formed in registers); each lane takes several 32-element chunks of each
// row per pass. For affine 4/8-bit weights with bf16 scales (the MoE models' format) every load of a
// pass is issued before the first decode (affine_bf16_chunks.cuh): 4 independent 16-byte loads per lane
// in gate/up, 5 in down for the 35B-A3B shapes, where decode_chunk's per-chunk branches kept one in
// flight. Other formats use decode_chunk per chunk (correct, not tuned). Grids hold only resident
// blocks (gate/up three per SM at <= 80 registers, down two at <= 128), so the per-block prologue
// (routing, staging) is paid once per block.
//
// Measured (H100/H200, engine_cuda_moe_decode_bench, one token): the kernels are latency-bound, not
// bandwidth-bound (gate/up ~23 µs at ~10% of DRAM bandwidth: warps wait on global loads and, at the
// barriers, on warp 0's routing; issue ~30% active). H100, fused launch (router + fused in brackets):
// 31.0 (37.6) µs before; one-row tasks at three blocks per SM 28.0 (34.3); routing overlapped with
// the staging of x̂ by the other warps, a shorter routing chain (route_token_warp_tree) and tasks dealt
// round the blocks first 24.5 (31.8), gate/up 26.2 -> 16.7 µs in ncu. Prefetching each warp's first
// pass to L2 before the staging was slower and is not done.
//
// Expected at the 35B-A3B shape, one token: gate/up reads 9 × 1.125 MB, down 9 × 0.56 MB (15.3 MB);
// at ~3 TB/s that is ~5 µs of streaming, plus ~1–1.5 µs of prologue in gate/up (logits → routing →
// norm → staging, all before the first expert load) and ~0.5 µs in down (h staging from L2).
#include <algorithm>
#include <initializer_list>
#include <string>

#include "engine/cuda/common/affine_bf16_chunks.cuh"
#include "engine/cuda/common/cuda_check.h"
#include "engine/cuda/common/launch.cuh"
#include "engine/cuda/common/matvec_common.cuh"
#include "engine/cuda/common/smem_attr.h"
#include "engine/cuda/common/stage_input.cuh"
#include "engine/cuda/moe/moe.h"
#include "engine/cuda/moe/moe_fused_layout.h"
#include "engine/cuda/moe/route_warp.cuh"
#include "util/error.h"

namespace hearth::engine::cuda {
namespace {

constexpr int kFusedThreads = 256;
constexpr int kFusedWarps = kFusedThreads / 32;
// Blocks per SM the kernels' __launch_bounds__ promise (gate/up: at most 80 registers a thread at 3,
// down: 128 at 2); row_blocks sizes the grids to what is resident.
constexpr int kGateUpBlocksPerSm = 3;
constexpr int kDownBlocksPerSm = 2;
// Rows a warp's task takes. One: the 35B-A3B's 4608 gate/up rows over 3 × 132 × 8 warps are two
// rounds of one row; at two rows a task, 2304 tasks over the 2112 warps of two blocks per SM made
// 192 warps take a second two-row task, and the whole kernel waited for them.
constexpr int kGateUpRowsPerWarp = 1;
constexpr int kDownRowsPerWarp = 1;
constexpr int kGateUpChunksPerLane = 2;  // 2 × 32 lanes × 32 = 2048 columns in one pass
constexpr int kDownChunksPerLane = 5;    // 9 × 16 chunks (8 experts + shared, inter 512) in one pass
// The affine bf16 path (affine_bf16_chunks.cuh) holds a whole pass of loads in registers: fewer chunks
// per pass at 8 bits (two 16-byte words a chunk) keep it under the 128 registers of two blocks per SM.
template <int BITS> constexpr int kFastGateUpChunks = BITS == 4 ? 2 : 1;
template <int BITS> constexpr int kFastDownChunks = BITS == 4 ? 5 : 2;

struct FusedParams {
  DevWeight gate, up, down;  // expert shapes; pointers come from the tables
  const uint8_t* const* g_data;
  const uint8_t* const* g_scales;
  const uint8_t* const* g_biases;
  const uint8_t* const* u_data;
  const uint8_t* const* u_scales;
  const uint8_t* const* u_biases;
  const uint8_t* const* d_data;
  const uint8_t* const* d_scales;
  const uint8_t* const* d_biases;
  DevWeight s_gate, s_up, s_down, s_row;  // shared expert (data null when the model has none)
  Codec row_codec;                         // of s_row
  int gate_up_group_shift;                 // affine bf16 path: log2(chunks per group) of gate/up
  int down_group_shift;                    // ... and of down
  StageInput x;
  const float* logits;
  int64_t logits_stride;
  int64_t experts;
  int top_k;
  bool normalize;
  bool has_shared;
  MoeFusedLayout layout;
  int32_t* indices;
  float* weights;
  float* h;      // [n][layout.vrows]
  float* sigma;  // [n]
  float* out;
  int64_t out_stride;
};

__device__ __forceinline__ DevWeight with_ptrs(DevWeight w, const uint8_t* d, const uint8_t* s, const uint8_t* b) {
  w.data = d, w.scales = s, w.biases = b;
  return w;
}

__device__ __forceinline__ float exact_silu(float v) { return v / (1.0f + expf(-v)); }

// One row · staged vector, the warp's lanes splitting the chunks; the sum is returned to every lane.
template <Codec C>
__device__ __forceinline__ float warp_row_dot(const DevWeight w, const float4* xs) {
  const int lane = threadIdx.x & 31;
  const int64_t cc = (w.cols + 31) / 32;
  float acc = 0.0f;
  for (int64_t c = lane; c < cc; c += 32) {
    float wv[32];
    decode_chunk<C>(w, 0, c, wv);
    acc += dot_staged_chunk(wv, xs, c);
  }
  return warp_sum(acc);
}

// The same with the decoder chosen at run time (the shared expert's one-row gate has a format of its
// own, usually 8-bit). Each case has its own loop so that only the generic one needs local memory.
__device__ __forceinline__ float warp_row_dot(const DevWeight w, Codec codec, const float4* xs) {
  switch (codec) {
    case Codec::affine8: return warp_row_dot<Codec::affine8>(w, xs);
    case Codec::affine4: return warp_row_dot<Codec::affine4>(w, xs);
    case Codec::bf16: return warp_row_dot<Codec::bf16>(w, xs);
    case Codec::fp4: return warp_row_dot<Codec::fp4>(w, xs);
    default: return warp_row_dot<Codec::generic>(w, xs);
  }
}

// A gate/up task: a warp's kGateUpRowsPerWarp virtual rows, their gate and up matrices and rows.
struct GateUpTask {
  DevWeight wg[kGateUpRowsPerWarp], wu[kGateUpRowsPerWarp];
  int64_t rr[kGateUpRowsPerWarp];
  bool live[kGateUpRowsPerWarp];
};

__device__ __forceinline__ GateUpTask gate_up_task(const FusedParams& p, const int32_t* chosen, int64_t task) {
  const MoeFusedLayout& L = p.layout;
  GateUpTask k;
#pragma unroll
  for (int u = 0; u < kGateUpRowsPerWarp; ++u) {
    const int64_t v = task * kGateUpRowsPerWarp + u;
    k.live[u] = v < L.vrows;
    const MoeVirtualRow vr = moe_virtual_row(L, k.live[u] ? v : 0);
    k.rr[u] = vr.row;
    if (vr.slot < L.top_k) {
      const int e = chosen[vr.slot];
      k.wg[u] = with_ptrs(p.gate, p.g_data[e], p.g_scales ? p.g_scales[e] : nullptr, p.g_biases ? p.g_biases[e] : nullptr);
      k.wu[u] = with_ptrs(p.up, p.u_data[e], p.u_scales ? p.u_scales[e] : nullptr, p.u_biases ? p.u_biases[e] : nullptr);
    } else {
      k.wg[u] = p.s_gate, k.wu[u] = p.s_up;
    }
  }
  return k;
}

// The affine bf16 path's view of a task: each row's own data, scales and biases (row offsets applied),
// which is all its loads need; the DevWeights would hold ~4x the registers across the staging of x̂.
struct GateUpRows {
  const uint8_t* q[kGateUpRowsPerWarp][2];  // [row][gate, up]
  const uint8_t* s[kGateUpRowsPerWarp][2];
  const uint8_t* b[kGateUpRowsPerWarp][2];
  bool live[kGateUpRowsPerWarp];
};

__device__ __forceinline__ GateUpRows gate_up_rows(const FusedParams& p, const int32_t* chosen, int64_t task) {
  const GateUpTask k = gate_up_task(p, chosen, task);
  GateUpRows r;
#pragma unroll
  for (int u = 0; u < kGateUpRowsPerWarp; ++u) {
    r.live[u] = k.live[u];
#pragma unroll
    for (int m = 0; m < 2; ++m) {
      const DevWeight& w = m ? k.wu[u] : k.wg[u];
      const int64_t g = k.rr[u] * w.groups * 2;  // bf16 scales and biases
      r.q[u][m] = w.data + k.rr[u] * w.row_bytes, r.s[u][m] = w.scales + g, r.b[u][m] = w.biases + g;
    }
  }
  return r;
}

// One pass of a gate/up task through the affine bf16 load/decode split: every load of the pass (rows ×
// {gate, up} × chunks) is issued before the first is decoded. The kernel issues its first task's first
// pass before it stages x̂, so that those loads are in flight while x̂ is built.
template <int BITS>
using GateUpPass = AffineChunk<BITS>[kGateUpRowsPerWarp][2][kFastGateUpChunks<BITS>];

template <int BITS>
__device__ __forceinline__ void gate_up_load_pass(const GateUpRows& k, int64_t cc, int shift, int64_t c0,
                                                  GateUpPass<BITS>& a) {
  constexpr int U = kGateUpRowsPerWarp, CPL = kFastGateUpChunks<BITS>;
  const int lane = threadIdx.x & 31;
#pragma unroll
  for (int u = 0; u < U; ++u)
#pragma unroll
    for (int m = 0; m < 2; ++m)
#pragma unroll
      for (int i = 0; i < CPL; ++i) {
        const int64_t c = min(c0 + i * 32 + lane, cc - 1);  // clamped: loads stay branch-free
        a[u][m][i] = affine_chunk_load<BITS>(k.q[u][m], k.s[u][m], k.b[u][m], 0, 0, 0, c, shift);
      }
}

template <int BITS>
__device__ __forceinline__ void gate_up_dot_pass(const GateUpPass<BITS>& a, const GateUpRows& k, int64_t cc,
                                                 int64_t c0, const float4* xs, float (&ga)[kGateUpRowsPerWarp],
                                                 float (&ua)[kGateUpRowsPerWarp]) {
  constexpr int U = kGateUpRowsPerWarp, CPL = kFastGateUpChunks<BITS>;
  const int lane = threadIdx.x & 31;
#pragma unroll
  for (int u = 0; u < U; ++u)
#pragma unroll
    for (int i = 0; i < CPL; ++i) {
      const int64_t c = c0 + i * 32 + lane;
      const float g = affine_chunk_dot<BITS>(a[u][0][i], xs, min(c, cc - 1));
      const float v = affine_chunk_dot<BITS>(a[u][1][i], xs, min(c, cc - 1));
      if (k.live[u] && c < cc) ga[u] += g, ua[u] += v;
    }
}

// x̂ of one token (in.n == 1) staged by warps 1.. of the block, which synchronise among themselves
// (named barrier 1) while warp 0 routes. The RMSNorm's sum of squares is reduced in its own fixed
// order (per-warp sums, then the warps' sums in ascending order, by every thread alike): deterministic,
// and float32 like stage_input_prepare, whose order differs. Must be called by every thread of warps 1..
__device__ __forceinline__ void stage_without_warp0(const StageInput& in, int64_t cc, float* partial, float4* xs) {
  constexpr int kThreads = kFusedThreads - 32;
  const int tid = static_cast<int>(threadIdx.x) - 32, warp = tid >> 5, lane = tid & 31;
  float inv_rms[1] = {1.0f};
  if (in.transform == StageTransform::rms_norm) {
    float s = 0.0f;
    for (int64_t c = tid; c < in.cols; c += kThreads) s = fmaf(in.x[c], in.x[c], s);
    s = warp_sum(s);
    if (lane == 0) partial[warp] = s;
    asm volatile("bar.sync 1, %0;" ::"r"(kThreads) : "memory");
    float v = 0.0f;
    for (int w = 0; w < kThreads / 32; ++w) v += partial[w];
    inv_rms[0] = rsqrtf(v / static_cast<float>(in.cols) + in.eps);
  }
  for (int64_t i = tid; i < cc * 8; i += kThreads) {
    const int64_t c = i >> 3;
    const int e4 = static_cast<int>(i & 7);
    const int64_t col = c * 32 + e4 * 4;
    float f[4];
#pragma unroll
    for (int q = 0; q < 4; ++q) f[q] = col + q < in.cols ? stage_input_value(in, inv_rms, 0, col + q) : 0.0f;
    xs[staged_slot(c, e4)] = make_float4(f[0], f[1], f[2], f[3]);
  }
}

// grid (gate/up row blocks, tokens), kFusedThreads threads; dynamic smem: x̂ of one token.
template <Codec C, bool kAffineBf16>
__global__ void __launch_bounds__(kFusedThreads, kGateUpBlocksPerSm) kernel_moe_fused_gate_up(const FusedParams p) {
  pdl_begin();  // launch.cuh: wait for the previous kernel (the router logits) before touching memory
  extern __shared__ float4 xs[];
  __shared__ float partial[kFusedWarps];
  __shared__ int32_t chosen[kMoeMaxTopK];
  const int t = blockIdx.y, warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const MoeFusedLayout& L = p.layout;

  // Warp 0 routes while the other warps normalise and stage x̂: the two chains overlap, and the one
  // barrier below publishes both `chosen` and x̂.
  StageInput in = p.x;
  in.x += t * in.x_stride;
  if (in.up) in.up += t * in.up_stride;
  in.n = 1;
  const int64_t cc = (in.cols + 31) / 32;
  if (warp == 0) {
    const RouteChoice c = route_token_warp_tree(p.logits + t * p.logits_stride, p.experts, p.top_k, p.normalize);
    if (lane < p.top_k) {
      chosen[lane] = c.index;
      if (blockIdx.x == 0) {
        p.indices[t * p.top_k + lane] = c.index;
        p.weights[t * p.top_k + lane] = c.weight;
      }
    }
  } else {
    stage_without_warp0(in, cc, partial, xs);
  }
  const int64_t tasks = (L.vrows + kGateUpRowsPerWarp - 1) / kGateUpRowsPerWarp;
  // Tasks go round the blocks first (task % gridDim.x is the block), so that every block, and so
  // every SM, gets the same number of rows to within one.
  const int64_t first_task = blockIdx.x + static_cast<int64_t>(gridDim.x) * warp;
  constexpr int kBits = C == Codec::affine4 ? 4 : 8;
  constexpr int kPass = 32 * kFastGateUpChunks<kBits>;
  __syncthreads();

  for (int64_t task = first_task; task < tasks; task += static_cast<int64_t>(gridDim.x) * kFusedWarps) {
    float ga[kGateUpRowsPerWarp] = {}, ua[kGateUpRowsPerWarp] = {};
    if constexpr (kAffineBf16) {
      const GateUpRows k = gate_up_rows(p, chosen, task);
      for (int64_t c0 = 0; c0 < cc; c0 += kPass) {
        GateUpPass<kBits> a;
        gate_up_load_pass<kBits>(k, cc, p.gate_up_group_shift, c0, a);
        gate_up_dot_pass<kBits>(a, k, cc, c0, xs, ga, ua);
      }
    } else {
      const GateUpTask w = gate_up_task(p, chosen, task);
      for (int64_t c0 = 0; c0 < cc; c0 += 32 * kGateUpChunksPerLane) {
#pragma unroll
        for (int u = 0; u < kGateUpRowsPerWarp; ++u) {
#pragma unroll
          for (int i = 0; i < kGateUpChunksPerLane; ++i) {
            const int64_t c = c0 + i * 32 + lane;
            if (w.live[u] && c < cc) {
              float wv[32];
              decode_chunk<C>(w.wg[u], w.rr[u], c, wv);
              ga[u] += dot_staged_chunk(wv, xs, c);
              decode_chunk<C>(w.wu[u], w.rr[u], c, wv);
              ua[u] += dot_staged_chunk(wv, xs, c);
            }
          }
        }
      }
    }
#pragma unroll
    for (int u = 0; u < kGateUpRowsPerWarp; ++u) {
      const int64_t v = task * kGateUpRowsPerWarp + u;
      const float g = warp_sum(ga[u]), up = warp_sum(ua[u]);
      if (lane == u && v < L.vrows) p.h[t * L.vrows + v] = exact_silu(g) * up;
    }
  }

  // The shared expert's gate row, by the last block's last warp: a block's warp w takes its block's
  // tasks w, w + 8, ..., so warp 7 has the fewest, and this row's dot stays off the longest path.
  if (p.has_shared && blockIdx.x == gridDim.x - 1 && warp == kFusedWarps - 1) {
    const float g = warp_row_dot(p.s_row, p.row_codec, xs);
    if (lane == 0) p.sigma[t] = 1.0f / (1.0f + expf(-g));
  }
}

// grid (down row blocks, tokens), kFusedThreads threads; dynamic smem: the k + 1 weighted h vectors.
// Per-part facts the down kernel's chunks look up (slot top_k: the shared expert).
struct DownParts {
  const uint8_t* data[kMoeMaxTopK + 1];
  const uint8_t* scales[kMoeMaxTopK + 1];
  const uint8_t* biases[kMoeMaxTopK + 1];
  int64_t row_bytes[kMoeMaxTopK + 1];
  int64_t groups[kMoeMaxTopK + 1];
};

// moe_virtual_chunk (moe_fused_layout.h) in 32-bit arithmetic as (slot, chunk); chunk counts are far
// below 2^31. Its 64-bit division is a long subroutine, paid per staged element of the h vectors.
__device__ __forceinline__ int2 down_chunk_part(const MoeFusedLayout& L, int vc) {
  const int ec = static_cast<int>(L.expert_chunks), routed = static_cast<int>(L.top_k) * ec;
  if (vc >= routed) return make_int2(static_cast<int>(L.top_k), vc - routed);
  const int slot = vc / ec;
  return make_int2(slot, vc - slot * ec);
}

// One pass of a warp's down rows over all parts through the affine bf16 load/decode split. `map[vc]` is
// virtual chunk vc's (part, chunk within the part).
template <int BITS>
using DownPass = AffineChunk<BITS>[kDownRowsPerWarp][kFastDownChunks<BITS>];

template <int BITS>
__device__ __forceinline__ void down_load_pass(const DownParts& parts, const int2* map, const MoeFusedLayout& L,
                                               int64_t vc0, int64_t first_row, int64_t rows, int shift,
                                               DownPass<BITS>& a) {
  constexpr int U = kDownRowsPerWarp, CPL = kFastDownChunks<BITS>;
  const int lane = threadIdx.x & 31;
#pragma unroll
  for (int i = 0; i < CPL; ++i) {
    const int64_t vc = min(vc0 + i * 32 + lane, L.down_chunks - 1);  // clamped: loads stay branch-free
    const int2 m = map[vc];
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int64_t r = min(first_row + u, rows - 1);
      a[u][i] = affine_chunk_load<BITS>(parts.data[m.x], parts.scales[m.x], parts.biases[m.x], parts.row_bytes[m.x],
                                        parts.groups[m.x], r, m.y, shift);
    }
  }
}

template <int BITS>
__device__ __forceinline__ void down_dot_pass(const DownPass<BITS>& a, int64_t down_chunks, int64_t vc0,
                                              const float4* hs, float (&acc)[kDownRowsPerWarp]) {
  constexpr int U = kDownRowsPerWarp, CPL = kFastDownChunks<BITS>;
  const int lane = threadIdx.x & 31;
#pragma unroll
  for (int i = 0; i < CPL; ++i) {
    const int64_t vc = vc0 + i * 32 + lane;
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const float d = affine_chunk_dot<BITS>(a[u][i], hs, min(vc, down_chunks - 1));
      if (vc < down_chunks) acc[u] += d;
    }
  }
}

template <Codec C, bool kAffineBf16>
__global__ void __launch_bounds__(kFusedThreads, kDownBlocksPerSm) kernel_moe_fused_down(const FusedParams p) {
  pdl_begin();  // launch.cuh: wait for the gate/up kernel before touching memory
  extern __shared__ float4 hs[];  // down_chunks staged chunks, then the int2 chunk map
  __shared__ DownParts parts;
  const uint8_t** part_data = parts.data;
  const uint8_t** part_scales = parts.scales;
  const uint8_t** part_biases = parts.biases;
  __shared__ float part_weight[kMoeMaxTopK + 1];
  int2* chunk_map = reinterpret_cast<int2*>(hs + p.layout.down_chunks * 8);
  const int t = blockIdx.y, warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const MoeFusedLayout& L = p.layout;
  if (threadIdx.x < L.top_k) {
    const int e = p.indices[t * L.top_k + threadIdx.x];
    part_data[threadIdx.x] = p.d_data[e];
    part_scales[threadIdx.x] = p.d_scales ? p.d_scales[e] : nullptr;
    part_biases[threadIdx.x] = p.d_biases ? p.d_biases[e] : nullptr;
    part_weight[threadIdx.x] = p.weights[t * L.top_k + threadIdx.x];
    parts.row_bytes[threadIdx.x] = p.down.row_bytes, parts.groups[threadIdx.x] = p.down.groups;
  } else if (threadIdx.x == L.top_k && p.has_shared) {
    part_data[threadIdx.x] = p.s_down.data;
    part_scales[threadIdx.x] = p.s_down.scales;
    part_biases[threadIdx.x] = p.s_down.biases;
    part_weight[threadIdx.x] = p.sigma[t];
    parts.row_bytes[threadIdx.x] = p.s_down.row_bytes, parts.groups[threadIdx.x] = p.s_down.groups;
  }
  __syncthreads();
  const int64_t rows = p.down.rows;
  const int64_t tasks = (rows + kDownRowsPerWarp - 1) / kDownRowsPerWarp;
  const int64_t first_task = blockIdx.x + static_cast<int64_t>(gridDim.x) * warp;  // as in gate/up
  constexpr int kBits = C == Codec::affine4 ? 4 : 8;
  constexpr int kPass = 32 * kFastDownChunks<kBits>;
  // Stage w_j · h_j (σ · h_s for the shared part), each part starting at a chunk of its own.
  const float* h = p.h + t * L.vrows;
  for (int64_t i = threadIdx.x; i < L.down_chunks * 8; i += blockDim.x) {
    const int64_t vc = i >> 3;
    const int e4 = static_cast<int>(i & 7);
    const int2 ch = down_chunk_part(L, static_cast<int>(vc));
    const int64_t col = ch.y * 32 + e4 * 4, cols = moe_part_cols(L, ch.x);
    const float* src = h + moe_part_offset(L, ch.x);
    const float w = part_weight[ch.x];
    float f[4];
#pragma unroll
    for (int q = 0; q < 4; ++q) f[q] = col + q < cols ? w * src[col + q] : 0.0f;
    hs[staged_slot(vc, e4)] = make_float4(f[0], f[1], f[2], f[3]);
    if (e4 == 0) chunk_map[vc] = ch;
  }
  __syncthreads();

  for (int64_t task = first_task; task < tasks; task += static_cast<int64_t>(gridDim.x) * kFusedWarps) {
    float acc[kDownRowsPerWarp] = {};
    if constexpr (kAffineBf16) {
      for (int64_t vc0 = 0; vc0 < L.down_chunks; vc0 += kPass) {
        DownPass<kBits> a;
        down_load_pass<kBits>(parts, chunk_map, L, vc0, task * kDownRowsPerWarp, rows, p.down_group_shift, a);
        down_dot_pass<kBits>(a, L.down_chunks, vc0, hs, acc);
      }
    } else {
    for (int64_t vc0 = 0; vc0 < L.down_chunks; vc0 += 32 * kDownChunksPerLane) {
#pragma unroll
      for (int i = 0; i < kDownChunksPerLane; ++i) {
        const int64_t vc = vc0 + i * 32 + lane;
        if (vc < L.down_chunks) {
          const MoeVirtualChunk ch = moe_virtual_chunk(L, vc);
          const DevWeight w = with_ptrs(ch.slot < L.top_k ? p.down : p.s_down, part_data[ch.slot],
                                        part_scales[ch.slot], part_biases[ch.slot]);
#pragma unroll
          for (int u = 0; u < kDownRowsPerWarp; ++u) {
            const int64_t r = task * kDownRowsPerWarp + u;
            if (r < rows) {
              float wv[32];
              decode_chunk<C>(w, r, ch.chunk, wv);
              acc[u] += dot_staged_chunk(wv, hs, vc);
            }
          }
        }
      }
    }
    }
#pragma unroll
    for (int u = 0; u < kDownRowsPerWarp; ++u) {
      const float v = warp_sum(acc[u]);
      const int64_t r = task * kDownRowsPerWarp + u;
      if (lane == u && r < rows) p.out[t * p.out_stride + r] += v;
    }
  }
}

// Blocks per token: enough for every row task, but never more than fit on the GPU at once (with the
// tokens' blocks side by side). A block that waits for a second wave repeats the prologue (routing,
// staging) before its first load, which would add several microseconds of tail to a ~5 µs kernel;
// resident warps instead take further row tasks in a grid-stride loop.
unsigned row_blocks(int64_t rows, int rows_per_warp, int blocks_per_sm, int64_t n) {
  const int64_t per = static_cast<int64_t>(kFusedWarps) * rows_per_warp;
  const int64_t resident = std::max<int64_t>(1, int64_t{device_info().sm_count} * blocks_per_sm / n);
  return static_cast<unsigned>(std::min<int64_t>((rows + per - 1) / per, resident));
}

template <Codec C, bool kAffineBf16 = false>
void launch_gate_up(const FusedParams& fp, int64_t n, cudaStream_t stream) {
  const size_t smem = static_cast<size_t>((fp.x.cols + 31) / 32) * 32 * sizeof(float);
  const auto kernel = kernel_moe_fused_gate_up<C, kAffineBf16>;
  ensure_dynamic_smem(reinterpret_cast<const void*>(kernel), smem);
  const dim3 grid(row_blocks(fp.layout.vrows, kGateUpRowsPerWarp, kGateUpBlocksPerSm, n), static_cast<unsigned>(n));
  launch_pdl(kernel, grid, kFusedThreads, smem, stream, fp);
  HEARTH_CUDA_LAUNCH_CHECK();
}

template <Codec C, bool kAffineBf16 = false>
void launch_down(const FusedParams& fp, int64_t n, cudaStream_t stream) {
  const size_t smem = static_cast<size_t>(fp.layout.down_chunks) * (32 * sizeof(float) + sizeof(int2));
  const auto kernel = kernel_moe_fused_down<C, kAffineBf16>;
  ensure_dynamic_smem(reinterpret_cast<const void*>(kernel), smem);
  const dim3 grid(row_blocks(fp.down.rows, kDownRowsPerWarp, kDownBlocksPerSm, n), static_cast<unsigned>(n));
  launch_pdl(kernel, grid, kFusedThreads, smem, stream, fp);
  HEARTH_CUDA_LAUNCH_CHECK();
}

void require(bool ok, const std::string& what) {
  if (!ok) throw Error("CUDA fused MoE decode: " + what, ErrorKind::unsupported);
}

// The decoder of a kernel that reads several matrices with one template: the fast one only if it is
// valid for all of them.
Codec common_codec(Codec a, Codec b) { return a == b ? a : Codec::generic; }

// log2(chunks per group) when every matrix takes the affine bf16 load/decode split (affine_bf16_chunks.cuh):
// affine with bf16 scales and one group size, a power-of-two number of 32-element chunks; else -1.
int affine_bf16_group_shift(std::initializer_list<const WeightMatrix*> ms) {
  int shift = -1;
  for (const WeightMatrix* m : ms) {
    if (!m) continue;
    const int per = m->group_size / 32;
    if (m->format != WeightFormat::affine || m->dtype != DType::bf16 || m->group_size % 32 != 0 || per <= 0 ||
        (per & (per - 1)) != 0)
      return -1;
    int s = 0;
    while ((1 << s) < per) ++s;
    if (shift >= 0 && s != shift) return -1;
    shift = s;
  }
  return shift;
}

}  // namespace

size_t moe_decode_workspace_bytes(int64_t n, int64_t top_k, int64_t inter, int64_t shared_inter) {
  const int64_t h = n * (top_k * inter + shared_inter);
  const int64_t sigma_at = (h + 3) / 4 * 4;  // 16-byte aligned
  return static_cast<size_t>(sigma_at + n) * sizeof(float);
}

void launch_moe_decode_fused(const MoeDecodeLaunch& p, cudaStream_t stream) {
  const int64_t n = p.x.n;
  const bool shared = p.shared_gate != nullptr;
  require(n >= 1 && n <= kMoeDecodeMaxTokens, std::to_string(n) + " tokens (1.." + std::to_string(kMoeDecodeMaxTokens) + ")");
  require(p.top_k >= 1 && p.top_k <= kMoeMaxTopK && p.top_k <= p.gate.count,
          "top " + std::to_string(p.top_k) + " of " + std::to_string(p.gate.count) + " experts");
  require(p.gate.count <= 32 * kRouteMaxPerLane, std::to_string(p.gate.count) + " experts (at most 512)");
  require(p.gate.count == p.up.count && p.gate.count == p.down.count, "expert tables of different sizes");
  const WeightMatrix &g = p.gate.shape, &u = p.up.shape, &d = p.down.shape;
  require(g.cols == p.x.cols && u.cols == p.x.cols && u.rows == g.rows && d.cols == g.rows,
          "expert shapes do not match the input");
  require(shared == (p.shared_up != nullptr) && shared == (p.shared_down != nullptr) &&
              shared == (p.shared_gate_row != nullptr),
          "the shared expert needs all four matrices or none");
  if (shared) {
    const WeightMatrix &sg = *p.shared_gate, &su = *p.shared_up, &sd = *p.shared_down, &sr = *p.shared_gate_row;
    require(sg.cols == p.x.cols && su.cols == p.x.cols && su.rows == sg.rows && sd.cols == sg.rows &&
                sd.rows == d.rows && sr.rows == 1 && sr.cols == p.x.cols,
            "shared expert shapes do not match the experts");
  }
  require(p.router_logits && p.x.x && p.out && p.indices && p.weights && p.workspace, "a pointer is missing");

  FusedParams fp{};
  fp.gate = to_dev_weight(g), fp.up = to_dev_weight(u), fp.down = to_dev_weight(d);
  fp.g_data = p.gate.data, fp.g_scales = p.gate.scales, fp.g_biases = p.gate.biases;
  fp.u_data = p.up.data, fp.u_scales = p.up.scales, fp.u_biases = p.up.biases;
  fp.d_data = p.down.data, fp.d_scales = p.down.scales, fp.d_biases = p.down.biases;
  Codec gate_up_codec = common_codec(p.gate.codec, p.up.codec), down_codec = p.down.codec;
  fp.row_codec = Codec::generic;
  if (shared) {
    fp.s_gate = to_dev_weight(*p.shared_gate), fp.s_up = to_dev_weight(*p.shared_up);
    fp.s_down = to_dev_weight(*p.shared_down), fp.s_row = to_dev_weight(*p.shared_gate_row);
    fp.row_codec = pick_codec(*p.shared_gate_row);
    gate_up_codec = common_codec(gate_up_codec, common_codec(pick_codec(*p.shared_gate), pick_codec(*p.shared_up)));
    down_codec = common_codec(down_codec, pick_codec(*p.shared_down));
  }
  fp.x = p.x;
  fp.logits = p.router_logits, fp.logits_stride = p.logits_stride, fp.experts = p.gate.count;
  fp.top_k = static_cast<int>(p.top_k), fp.normalize = p.normalize, fp.has_shared = shared;
  fp.layout = moe_fused_layout(p.top_k, g.rows, shared ? p.shared_gate->rows : 0);
  fp.indices = p.indices, fp.weights = p.weights;
  fp.h = static_cast<float*>(p.workspace);
  fp.sigma = fp.h + (n * fp.layout.vrows + 3) / 4 * 4;
  fp.out = p.out, fp.out_stride = p.out_stride;

  // The affine bf16 path needs one layout over every matrix a kernel reads (the codec, already common,
  // fixes the bits).
  fp.gate_up_group_shift = affine_bf16_group_shift({&g, &u, p.shared_gate, p.shared_up});
  fp.down_group_shift = affine_bf16_group_shift({&d, p.shared_down});
  const bool gate_up_affine = fp.gate_up_group_shift >= 0, down_affine = fp.down_group_shift >= 0;
  switch (gate_up_codec) {
    case Codec::affine4:
      gate_up_affine ? launch_gate_up<Codec::affine4, true>(fp, n, stream) : launch_gate_up<Codec::affine4>(fp, n, stream);
      break;
    case Codec::affine8:
      gate_up_affine ? launch_gate_up<Codec::affine8, true>(fp, n, stream) : launch_gate_up<Codec::affine8>(fp, n, stream);
      break;
    case Codec::fp4: launch_gate_up<Codec::fp4>(fp, n, stream); break;
    case Codec::bf16: launch_gate_up<Codec::bf16>(fp, n, stream); break;
    case Codec::generic: launch_gate_up<Codec::generic>(fp, n, stream); break;
  }
  switch (down_codec) {
    case Codec::affine4:
      down_affine ? launch_down<Codec::affine4, true>(fp, n, stream) : launch_down<Codec::affine4>(fp, n, stream);
      break;
    case Codec::affine8:
      down_affine ? launch_down<Codec::affine8, true>(fp, n, stream) : launch_down<Codec::affine8>(fp, n, stream);
      break;
    case Codec::fp4: launch_down<Codec::fp4>(fp, n, stream); break;
    case Codec::bf16: launch_down<Codec::bf16>(fp, n, stream); break;
    case Codec::generic: launch_down<Codec::generic>(fp, n, stream); break;
  }
}

}  // namespace hearth::engine::cuda
