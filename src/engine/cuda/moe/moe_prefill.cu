// The routed experts for prefill-sized batches, without leaving the device: one block sorts the
// (token, expert) pairs by expert and writes a tile table (which expert and rows each 64-row GEMM tile
// covers); then grouped dequantising GEMMs run gate and up on the gathered token rows, SwiGLU joins
// them, and the down GEMM scatters weight · result back onto each token's row with atomic adds.
#include <algorithm>
#include <string>

#include "engine/cuda/common/cuda_check.h"
#include "engine/cuda/common/launch.cuh"
#include "engine/cuda/elementwise/elementwise.h"
#include "engine/cuda/gemm/gemm_kernel.cuh"
#include "engine/cuda/moe/moe.h"
#include "engine/cuda/moe/moe_gemm_fast.h"
#include "engine/cuda/moe/moe_gemm_fast_layout.h"

namespace hearth::engine::cuda {
namespace {

constexpr int kMaxExperts = 1024;
// The fast kernels walk the same tile table.
static_assert(kMoeFastBM == kGemmBM, "the sort kernel's tiles are the fast GEMM's tiles");

struct Layout {
  size_t expert_end = 0, pair_token = 0, pair_weight = 0, tile_expert = 0, tile_row0 = 0, gate = 0, up = 0;
  size_t total = 0;
  int64_t pairs = 0, max_tiles = 0;
};

size_t align_up(size_t v) { return (v + 255) / 256 * 256; }

Layout layout_for(int64_t n, int64_t top_k, int64_t experts, int64_t inter) {
  Layout l;
  l.pairs = n * top_k;
  l.max_tiles = (l.pairs + kGemmBM - 1) / kGemmBM + experts;
  size_t at = 0;
  auto take = [&](size_t bytes) {
    const size_t here = at;
    at += align_up(bytes);
    return here;
  };
  l.expert_end = take(sizeof(int32_t) * experts);
  l.pair_token = take(sizeof(int32_t) * l.pairs);
  l.pair_weight = take(sizeof(float) * l.pairs);
  l.tile_expert = take(sizeof(int32_t) * l.max_tiles);
  l.tile_row0 = take(sizeof(int32_t) * l.max_tiles);
  l.gate = take(sizeof(float) * l.pairs * inter);
  l.up = take(sizeof(float) * l.pairs * inter);
  l.total = at;
  return l;
}

struct SortParams {
  const int32_t* indices;
  const float* weights;
  int64_t pairs;
  int top_k;
  int experts;
  int64_t max_tiles;
  int32_t* expert_end;
  int32_t* pair_token;
  float* pair_weight;
  int32_t* tile_expert;
  int32_t* tile_row0;
};

// Exclusive prefix sums over the block (blockDim.x == kSortThreads) of two values at once.
constexpr int kSortThreads = 1024;
static_assert(kMaxExperts == kSortThreads, "the sort kernel gives each expert one thread");
constexpr int kSortBatch = 8;
__device__ __forceinline__ int2 block_exclusive_scan(int2 v, int2* warp_totals) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  int2 inc = v;
#pragma unroll
  for (int o = 1; o < 32; o <<= 1) {
    const int x = __shfl_up_sync(0xffffffffu, inc.x, o), y = __shfl_up_sync(0xffffffffu, inc.y, o);
    if (lane >= o) inc.x += x, inc.y += y;
  }
  if (lane == 31) warp_totals[warp] = inc;
  __syncthreads();
  if (warp == 0) {
    const int2 t = warp_totals[lane];
    int2 ti = t;
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
      const int x = __shfl_up_sync(0xffffffffu, ti.x, o), y = __shfl_up_sync(0xffffffffu, ti.y, o);
      if (lane >= o) ti.x += x, ti.y += y;
    }
    warp_totals[lane] = make_int2(ti.x - t.x, ti.y - t.y);
  }
  __syncthreads();
  const int2 base = warp_totals[warp];
  return make_int2(base.x + inc.x - v.x, base.y + inc.y - v.y);
}

// One block: counting sort of the pairs by expert, then the tile table. Thread e owns expert e: its
// row and tile offsets come from block-wide prefix sums instead of a serial loop over the experts
// (H200, 4096 tokens × top-8 of 256: 107 µs before, 72 µs with the scan and batched loads; what is
// left is one SM's shared atomics and scattered stores — several blocks would be the next step).
__global__ void __launch_bounds__(kSortThreads) kernel_moe_sort(const SortParams p) {
  pdl_begin();  // launch.cuh: wait for the previous kernel before touching memory
  __shared__ int count[kMaxExperts];
  __shared__ int cursor[kMaxExperts];
  __shared__ int2 warp_totals[32];
  for (int e = threadIdx.x; e < p.experts; e += blockDim.x) count[e] = 0;
  __syncthreads();
  // Loads batched kSortBatch deep: one block has few warps to hide global latency with.
  for (int64_t base = threadIdx.x; base < p.pairs; base += kSortBatch * blockDim.x) {
    int expert[kSortBatch];
#pragma unroll
    for (int u = 0; u < kSortBatch; ++u) {
      const int64_t i = base + u * blockDim.x;
      expert[u] = i < p.pairs ? p.indices[i] : -1;
    }
#pragma unroll
    for (int u = 0; u < kSortBatch; ++u)
      if (expert[u] >= 0) atomicAdd(&count[expert[u]], 1);
  }
  __syncthreads();
  const int e = threadIdx.x;  // kMaxExperts == kSortThreads
  const int rows = e < p.experts ? count[e] : 0;
  const int tiles = (rows + kGemmBM - 1) / kGemmBM;
  const int2 start = block_exclusive_scan(make_int2(rows, tiles), warp_totals);
  if (e < p.experts) {
    cursor[e] = start.x;
    p.expert_end[e] = start.x + rows;
    for (int t = 0; t < tiles; ++t) {
      p.tile_expert[start.y + t] = e;
      p.tile_row0[start.y + t] = start.x + t * kGemmBM;
    }
  }
  // The last expert's thread knows the tile count; every thread clears its share of the rest.
  __shared__ int used_tiles;
  if (e == kSortThreads - 1) used_tiles = start.y + tiles;
  __syncthreads();
  for (int64_t t = used_tiles + threadIdx.x; t < p.max_tiles; t += blockDim.x) p.tile_expert[t] = -1;
  for (int64_t base = threadIdx.x; base < p.pairs; base += kSortBatch * blockDim.x) {
    int expert[kSortBatch];
    float weight[kSortBatch];
#pragma unroll
    for (int u = 0; u < kSortBatch; ++u) {
      const int64_t i = base + u * blockDim.x;
      expert[u] = i < p.pairs ? p.indices[i] : -1;
      weight[u] = i < p.pairs ? p.weights[i] : 0.0f;
    }
#pragma unroll
    for (int u = 0; u < kSortBatch; ++u) {
      if (expert[u] < 0) continue;
      const int64_t i = base + u * blockDim.x;
      const int pos = atomicAdd(&cursor[expert[u]], 1);
      p.pair_token[pos] = static_cast<int32_t>(i / p.top_k);
      p.pair_weight[pos] = weight[u];
    }
  }
}

template <bool SPLIT>
void launch_grouped_as(const GemmParams& g, Codec codec, const dim3 grid, cudaStream_t stream) {
  switch (codec) {
    case Codec::affine4: launch_pdl(kernel_gemm<Codec::affine4, true, SPLIT>, grid, kGemmThreads, 0, stream, g); break;
    case Codec::affine8: launch_pdl(kernel_gemm<Codec::affine8, true, SPLIT>, grid, kGemmThreads, 0, stream, g); break;
    case Codec::fp4: launch_pdl(kernel_gemm<Codec::fp4, true, SPLIT>, grid, kGemmThreads, 0, stream, g); break;
    case Codec::bf16: launch_pdl(kernel_gemm<Codec::bf16, true, SPLIT>, grid, kGemmThreads, 0, stream, g); break;
    case Codec::generic: launch_pdl(kernel_gemm<Codec::generic, true, SPLIT>, grid, kGemmThreads, 0, stream, g); break;
  }
  HEARTH_CUDA_LAUNCH_CHECK();
}

// single_mma: one bf16 MMA per product (Precision::fast) instead of the split three.
void launch_grouped(const GemmParams& g, Codec codec, int64_t out_rows, int64_t tiles, bool single_mma,
                    cudaStream_t stream) {
  const dim3 grid(static_cast<unsigned>((out_rows + kGemmBN - 1) / kGemmBN), static_cast<unsigned>(tiles));
  if (single_mma) {
    launch_grouped_as<false>(g, codec, grid, stream);
  } else {
    launch_grouped_as<true>(g, codec, grid, stream);
  }
}

GemmParams grouped_params(const ExpertTable& t, const Layout& l, uint8_t* ws) {
  GemmParams g;
  g.w = to_dev_weight(t.shape);
  g.tile_expert = reinterpret_cast<const int32_t*>(ws + l.tile_expert);
  g.tile_row0 = reinterpret_cast<const int32_t*>(ws + l.tile_row0);
  g.expert_end = reinterpret_cast<const int32_t*>(ws + l.expert_end);
  g.e_data = t.data;
  g.e_scales = t.scales;
  g.e_biases = t.biases;
  return g;
}

}  // namespace

size_t moe_workspace_bytes(int64_t n, int64_t top_k, int64_t experts, int64_t inter) {
  if (n <= kMoeDecodeMaxTokens) return align_up(sizeof(float) * n * top_k * inter);
  return layout_for(n, top_k, experts, inter).total;
}

void launch_moe(const MoeLaunch& p, cudaStream_t stream) {
  if (p.n <= 0) return;
  if (p.top_k > kMoeMaxTopK || p.gate.count > kMaxExperts)
    throw Error("CUDA MoE: top-k " + std::to_string(p.top_k) + " over " + std::to_string(p.gate.count) +
                    " experts is outside what the kernels handle (top-k <= 16, experts <= 1024)",
                ErrorKind::unsupported);
  if (p.n <= kMoeDecodeMaxTokens) {
    launch_moe_decode(p, stream);
    return;
  }
  const int64_t inter = p.gate.shape.rows, hidden = p.down.shape.rows;
  const Layout l = layout_for(p.n, p.top_k, p.gate.count, inter);
  auto* ws = static_cast<uint8_t*>(p.workspace);
  auto* pair_token = reinterpret_cast<int32_t*>(ws + l.pair_token);
  auto* pair_weight = reinterpret_cast<float*>(ws + l.pair_weight);
  auto* gate = reinterpret_cast<float*>(ws + l.gate);
  auto* up = reinterpret_cast<float*>(ws + l.up);

  SortParams sp;
  sp.indices = p.indices;
  sp.weights = p.weights;
  sp.pairs = l.pairs;
  sp.top_k = static_cast<int>(p.top_k);
  sp.experts = static_cast<int>(p.gate.count);
  sp.max_tiles = l.max_tiles;
  sp.expert_end = reinterpret_cast<int32_t*>(ws + l.expert_end);
  sp.pair_token = pair_token;
  sp.pair_weight = pair_weight;
  sp.tile_expert = reinterpret_cast<int32_t*>(ws + l.tile_expert);
  sp.tile_row0 = reinterpret_cast<int32_t*>(ws + l.tile_row0);
  launch_pdl(kernel_moe_sort, 1, kSortThreads, 0, stream, sp);
  HEARTH_CUDA_LAUNCH_CHECK();

  // Precision::fast with affine 4/8-bit experts: the tensor-core kernels of moe_gemm_fast.cu. Their
  // bf16 scratch (activations, SwiGLU result) lives where the float32 gate/up results would.
  // MoePrefillKernel::general keeps the general kernel (the benchmark's baseline).
  const bool fast_allowed = p.prefill_kernel == MoePrefillKernel::fast;
  const size_t float_region = l.total - l.gate;
  if (fast_allowed && moe_fast_applies(p) &&
      moe_fast_scratch_bytes(p.n, l.pairs, p.gate.shape.cols, inter) <= float_region) {
    MoeFastLaunch f;
    f.moe = &p;
    f.tile_expert = sp.tile_expert;
    f.tile_row0 = sp.tile_row0;
    f.expert_end = sp.expert_end;
    f.pair_token = pair_token;
    f.pair_weight = pair_weight;
    f.pairs = l.pairs;
    f.max_tiles = l.max_tiles;
    f.scratch = gate;
    launch_moe_fast(f, stream);
    return;
  }

  const bool x_vec4 = reinterpret_cast<uintptr_t>(p.x) % 16 == 0 && p.x_stride % 4 == 0 && p.gate.shape.cols % 4 == 0;
  for (int pass = 0; pass < 2; ++pass) {  // gate, then up, on the gathered token rows
    const ExpertTable& t = pass == 0 ? p.gate : p.up;
    GemmParams g = grouped_params(t, l, ws);
    g.x = p.x;
    g.x_stride = p.x_stride;
    g.x_vec4 = x_vec4 ? 1 : 0;
    g.a_rows = pair_token;
    g.y = pass == 0 ? gate : up;
    g.y_stride = inter;
    launch_grouped(g, t.codec, inter, l.max_tiles, p.single_mma, stream);
  }
  launch_swiglu(View{gate, l.pairs, inter, inter}, View{up, l.pairs, inter, inter}, View{gate, l.pairs, inter, inter},
                stream);
  GemmParams g = grouped_params(p.down, l, ws);
  g.x = gate;
  g.x_stride = inter;
  g.x_vec4 = inter % 4 == 0 ? 1 : 0;
  g.y = p.out;
  g.y_stride = p.out_stride;
  g.y_rows = pair_token;
  g.y_scale = pair_weight;
  g.atomic = 1;
  launch_grouped(g, p.down.codec, hidden, l.max_tiles, p.single_mma, stream);
}

}  // namespace hearth::engine::cuda
