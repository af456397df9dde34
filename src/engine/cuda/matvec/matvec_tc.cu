// Tensor-core matrix-vector products for decode (1..8 tokens) over MLX affine 4-/8-bit weights, up to
// kMaxMatvecJobs matrices sharing one staged input per launch.
//
// Why tensor cores for a memory-bound product: decoding a 4-bit weight on CUDA cores costs ~5
// instructions (extract, convert, two FMAs, a shared load), which caps the kernel well below the HBM
// rate. Here a 4-bit word becomes an fp16 A register with one shift-and-mask (1024 + q is exact in
// fp16) and one HSUB2, and one mma.m16n8k16 does 16×16×8 multiply-adds: about 0.07 instructions per
// weight, so the loads alone set the pace.
//
// Float32-faithful: the codes q are exact; the input x̂ of each token is scaled by an exact power of
// two (max |x̂|·2^e in [2^13, 2^14), so fp16 cannot overflow) and split into fp16 hi + lo, B columns
// 0..3 = hi of tokens 0..3, columns 4..7 = lo. Products accumulate in float32 per 64-column k-tile
// (one group or half of one), then the group epilogue in float32:
//   total[row][t] += s·acc + b·Σ_{k∈tile} x̃[t][k]      (x̃ = x̂·2^e; y = total·2^-e)
//
// Work layout: a block of 8 warps takes RT row tiles (16 rows) at a time; the warps of one row tile
// split its k-tiles (2 to 4 at a time per warp, their loads issued together), and their partial sums meet
// in shared memory. Columns are staged in slices that fit the shared-memory budget; each slice's
// partial result is added into y by the block that owns the rows (so every y element has one writer).
// Index mapping: matvec_tc_layout.h.
#include <cuda_fp16.h>

#include <algorithm>

#include "engine/cuda/common/cuda_check.h"
#include "engine/cuda/common/device_weights.cuh"
#include "engine/cuda/common/launch.cuh"
#include "engine/cuda/matvec/matvec_variants.h"
#include "engine/cuda/matvec/matvec_tc_layout.h"
#include "engine/cuda/common/smem_attr.h"
#include "engine/cuda/common/stage_input.cuh"
#include "util/error.h"

namespace hearth::engine::cuda {
namespace {

using tc::kWarps;
using tc::kPadHalves;
using tc::staged_bytes;
using tc::sums_bytes;
using tc::red_bytes;
constexpr int kThreads = kWarps * 32;

struct TcJob {
  DevWeight w;
  float* y;
  int64_t y_stride;
  int64_t tile_begin;  // first row tile of this job in the launch-wide numbering
  int accumulate;
};

struct TcParams {
  StageInput in;
  TcJob jobs[kMaxMatvecJobs];
  int job_count;
  int64_t total_tiles;
  int tiles_per_group;  // RT: row tiles a block works on at once (divides kWarps)
  int64_t slice_cols;   // staged columns per slice (multiple of 64)
};


__device__ __forceinline__ uint32_t hsub_1024(uint32_t v) {
  const __half2 h = __hsub2(*reinterpret_cast<const __half2*>(&v), __half2half2(__ushort_as_half(0x6400)));
  return *reinterpret_cast<const uint32_t*>(&h);
}

__device__ __forceinline__ void mma_16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Job owning launch-wide row tile `tile` (tile < total_tiles).
__device__ __forceinline__ int job_of_tile(const TcParams& p, int64_t tile) {
  int j = 0;
#pragma unroll
  for (int i = 1; i < kMaxMatvecJobs; ++i)
    if (i < p.job_count && tile >= p.jobs[i].tile_begin) j = i;
  return j;
}

// Stages columns [c0, c0 + sc) of every token: hi/lo halves in b_slot order, per-tile sums of x̃, and
// the per-token scales. Every thread takes part; ends with a barrier.
__device__ void stage_slice(const TcParams& p, const float* inv_rms, int64_t c0, int64_t sc, __half* xs,
                            float* sums, float* tok_scale, float* tok_unscale, float (*warp_max_s)[kMatvecMaxTokens]) {
  const StageInput& in = p.in;
  const int n = static_cast<int>(in.n);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int64_t row_halves = p.slice_cols + kPadHalves;
  float mx[kMatvecMaxTokens];
#pragma unroll
  for (int t = 0; t < kMatvecMaxTokens; ++t) {
    mx[t] = 0.0f;
    if (t < n) {
#pragma unroll 4
      for (int64_t c = threadIdx.x; c < sc; c += kThreads) mx[t] = fmaxf(mx[t], fabsf(stage_input_value(in, inv_rms, t, c0 + c)));
    }
    mx[t] = warp_max(mx[t]);
  }
  if (lane == 0)
#pragma unroll
    for (int t = 0; t < kMatvecMaxTokens; ++t) warp_max_s[warp][t] = mx[t];
  __syncthreads();
  if (threadIdx.x < kMatvecMaxTokens) {
    float m = 0.0f;
    for (int w = 0; w < kWarps; ++w) m = fmaxf(m, warp_max_s[w][threadIdx.x]);
    // max·2^(14-E) in [2^13, 2^14) for max = f·2^E, f in [0.5, 1): hi cannot overflow fp16 (65504).
    int e = 0;
    if (m > 0.0f && isfinite(m)) {
      int E;
      frexpf(m, &E);
      e = min(max(14 - E, -126), 126);
    }
    tok_scale[threadIdx.x] = ldexpf(1.0f, e);
    tok_unscale[threadIdx.x] = ldexpf(1.0f, -e);
  }
  __syncthreads();
  const int ktiles = static_cast<int>(sc / tc::kTileCols);
  for (int i = threadIdx.x; i < ktiles * kMatvecMaxTokens; i += kThreads)
    if (i % kMatvecMaxTokens >= n) sums[i] = 0.0f;
  // A warp converts two k-tiles of one token per item (each lane 4 consecutive columns), two items at
  // a time so that eight loads per lane are in flight; each half-warp sums its k-tile.
  const int pairs = (ktiles + 1) / 2, items = n * pairs;
  const int side = lane >> 4, hl = lane & 15;
  for (int base = warp; base < items; base += 2 * kWarps) {
    float v[2][4];
    int tok[2], kt[2];
    bool ok[2];
#pragma unroll
    for (int u = 0; u < 2; ++u) {
      const int item = base + u * kWarps;
      tok[u] = item / pairs;
      kt[u] = (item % pairs) * 2 + side;
      ok[u] = item < items && kt[u] < ktiles;
#pragma unroll
      for (int e = 0; e < 4; ++e)
        v[u][e] = ok[u] ? stage_input_value(in, inv_rms, tok[u], c0 + kt[u] * tc::kTileCols + 4 * hl + e) * tok_scale[tok[u]]
                        : 0.0f;
    }
#pragma unroll
    for (int u = 0; u < 2; ++u) {
      float part = 0.0f;
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const __half hi = __float2half_rn(v[u][e]);
        const __half lo = __float2half_rn(v[u][e] - __half2float(hi));
        part += v[u][e];
        if (ok[u]) {
          const int64_t at = kt[u] * tc::kTileCols + tc::b_slot(4 * hl + e);
          xs[(2 * tok[u]) * row_halves + at] = hi;
          xs[(2 * tok[u] + 1) * row_halves + at] = lo;
        }
      }
#pragma unroll
      for (int o = 8; o > 0; o >>= 1) part += __shfl_xor_sync(0xffffffffu, part, o);
      if (ok[u] && hl == 0) sums[kt[u] * 8 + tok[u]] = part;
    }
  }
  __syncthreads();
}

// (Eight tokens need twice the B registers and totals: three 4-bit k-tiles keep them within 128
// registers, i.e. two blocks per SM, without spilling.)
template <int BITS, int SETS>
constexpr int kUnrollOf = BITS == 8 ? 2 : (SETS == 1 ? 4 : 3);

__device__ __forceinline__ void prefetch_l2(const void* ptr) {
  asm volatile("prefetch.global.L2 [%0];" ::"l"(ptr));
}

// Pulls into L2 the W bytes (and the scale and bias) this lane will load for k-tiles [kt0, kt0 + U) of
// row tile `tile`: issued one round (or one row tile) ahead, so the loads that follow wait on L2
// rather than HBM. Weights are never written by the kernels of a decode step, so this may run before
// the kernel's dependency wait (pdl_begin) too; L2 is the point of coherence, so it is always safe.
template <int BITS, int SETS>
__device__ __forceinline__ void prefetch_round(const TcJob& job, int64_t row0, int64_t c0, int ktiles, int kt0) {
  constexpr int U = kUnrollOf<BITS, SETS>;
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const DevWeight& w = job.w;
  const int64_t tile_bytes = tc::kTileCols * BITS / 8;
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int64_t r = row0 + g + 8 * h;
    if (r >= w.rows) continue;
    const uint8_t* rp = w.data + r * w.row_bytes + (c0 * BITS) / 8 + (BITS == 4 ? 8 : 16) * t;
#pragma unroll
    for (int u = 0; u < U; ++u)
      if (kt0 + u < ktiles) prefetch_l2(rp + static_cast<int64_t>(kt0 + u) * tile_bytes);
    if (t == 0 && kt0 < ktiles) {
      const int64_t gi = r * w.groups + (c0 / tc::kTileCols + kt0) / (w.group_size / tc::kTileCols);
      const int64_t sb = (w.dtype == static_cast<uint8_t>(DType::f32)) ? 4 : 2;
      prefetch_l2(w.scales + gi * sb);
      prefetch_l2(w.biases + gi * sb);
    }
  }
}

// One warp's share of a row tile over the staged slice: k-tiles first_kt + i·kt_stride + u
// (u < kUnrollOf), each a 16 × 64 block of W times the staged input, added into `total`.
template <int BITS, int SETS>
__device__ __forceinline__ void warp_tile_products(const TcParams& p, const TcJob& job, int64_t row0, int64_t c0,
                                                   int ktiles, int first_kt, int kt_stride, const __half* xs,
                                                   const float* sums, float (&total)[SETS][4]) {
  constexpr int U = kUnrollOf<BITS, SETS>;
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const DevWeight& w = job.w;
  const int n = static_cast<int>(p.in.n);
  const int64_t row_halves = p.slice_cols + kPadHalves;
  // Rows g and g + 8: data at column c0 (+ the lane's 16 columns), and the rows' first group.
  const uint8_t* rp[2];
  int64_t gbase[2];
  bool valid[2];
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int64_t r = row0 + g + 8 * h;
    valid[h] = r < w.rows;
    rp[h] = w.data + r * w.row_bytes + (c0 * BITS) / 8 + (BITS == 4 ? 8 : 16) * t;
    gbase[h] = r * w.groups;
  }
  const int64_t kt_base = c0 / tc::kTileCols;  // k-tiles before the slice (g128: may start mid-group)
  const int tiles_per_group = w.group_size / tc::kTileCols;  // 1 or 2
  for (int kt0 = first_kt; kt0 < ktiles; kt0 += kt_stride) {
    uint4 q[U][2];
    float sc[U][2], bi[U][2];
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int kt = kt0 + u;
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        q[u][h] = make_uint4(0, 0, 0, 0);
        sc[u][h] = 0.0f;
        bi[u][h] = 0.0f;
        if (kt < ktiles && valid[h]) {
          const uint8_t* src = rp[h] + static_cast<int64_t>(kt) * (tc::kTileCols * BITS / 8);
          if constexpr (BITS == 4) {
            const uint2 v = __ldg(reinterpret_cast<const uint2*>(src));
            q[u][h].x = v.x;
            q[u][h].y = v.y;
          } else {
            q[u][h] = __ldg(reinterpret_cast<const uint4*>(src));
          }
          const int64_t gi = gbase[h] + (kt_base + kt) / tiles_per_group;
          sc[u][h] = dev_load_float(w.scales, gi, w.dtype);
          bi[u][h] = dev_load_float(w.biases, gi, w.dtype);
        }
      }
    }
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int kt = kt0 + u;
      if (kt >= ktiles) break;  // warp-uniform
#pragma unroll
      for (int s = 0; s < SETS; ++s) {
        const int tok = 4 * s + (g & 3), part = g >> 2;
        uint32_t b[8] = {0, 0, 0, 0, 0, 0, 0, 0};  // [2m + j]: B register j of MMA m
        if (tok < n) {
          const uint4* src = reinterpret_cast<const uint4*>(xs + (2 * tok + part) * row_halves +
                                                            static_cast<int64_t>(kt) * tc::kTileCols + 16 * t);
          const uint4 b01 = src[0], b23 = src[1];
          b[0] = b01.x, b[1] = b01.y, b[2] = b01.z, b[3] = b01.w;
          b[4] = b23.x, b[5] = b23.y, b[6] = b23.z, b[7] = b23.w;
        }
        float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma unroll
        for (int m = 0; m < 4; ++m) {
          // A registers: [0] row g k-low, [1] row g+8 k-low, [2] row g k-high, [3] row g+8 k-high.
          uint32_t a[4];
#pragma unroll
          for (int up = 0; up < 2; ++up)
#pragma unroll
            for (int h = 0; h < 2; ++h) {
              uint32_t reg;
              if constexpr (BITS == 4) {
                reg = tc::a_reg_4bit(q[u][h].x, q[u][h].y, m, up);
              } else {
                const uint32_t wd[4] = {q[u][h].x, q[u][h].y, q[u][h].z, q[u][h].w};
                reg = tc::a_reg_8bit(wd, m, up);
              }
              a[2 * up + h] = hsub_1024(reg);
            }
          mma_16816(acc, a, b[2 * m], b[2 * m + 1]);
        }
        // c[j]: row g + 8(j/2), column 2t + j%2 — the hi part of tokens 4s + 2t + j%2 when t < 2.
        float sx[2] = {0.0f, 0.0f};
        if (t < 2) {
          const float2 v = *reinterpret_cast<const float2*>(sums + kt * 8 + 4 * s + 2 * t);
          sx[0] = v.x;
          sx[1] = v.y;
        }
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          const int h = j >> 1;
          total[s][j] = fmaf(sc[u][h], acc[j], fmaf(bi[u][h], sx[j & 1], total[s][j]));
        }
      }
    }
  }
}

// Prefetches this warp's first round of row tile `tile` (a no-op past the last tile). Out of line: inlined
// twice, it pushed the kernel past 128 registers into spills.
template <int SETS>
__device__ __noinline__ void prefetch_tile(const TcParams& p, int64_t tile, int64_t c0, int ktiles, int my_kw) {
  if (tile >= p.total_tiles) return;
  const TcJob& job = p.jobs[job_of_tile(p, tile)];
  const int64_t row0 = (tile - job.tile_begin) * tc::kTileRows;
  if (job.w.bits == 4) {
    prefetch_round<4, SETS>(job, row0, c0, ktiles, my_kw * kUnrollOf<4, SETS>);
  } else {
    prefetch_round<8, SETS>(job, row0, c0, ktiles, my_kw * kUnrollOf<8, SETS>);
  }
}

template <int SETS>
__global__ void __launch_bounds__(kThreads, 2) kernel_matvec_tc(const __grid_constant__ TcParams p) {
  {
    // Before the dependency wait: start pulling the first row tile's weights while the previous kernel
    // finishes and the input is staged.
    const int RT = p.tiles_per_group, wpt = kWarps / RT, warp = threadIdx.x >> 5;
    const int first_ktiles = static_cast<int>(min(p.slice_cols, p.in.cols) / tc::kTileCols);
    prefetch_tile<SETS>(p, static_cast<int64_t>(blockIdx.x) * RT + warp / wpt, 0, first_ktiles, warp % wpt);
  }
  pdl_begin();
  extern __shared__ __align__(16) unsigned char smem[];
  __shared__ float inv_rms[kMatvecMaxTokens];
  __shared__ float tok_scale[kMatvecMaxTokens], tok_unscale[kMatvecMaxTokens];
  __shared__ float warp_max_s[kWarps][kMatvecMaxTokens];
  const int n = static_cast<int>(p.in.n);
  __half* xs = reinterpret_cast<__half*>(smem);
  float* sums = reinterpret_cast<float*>(smem + staged_bytes(n, p.slice_cols));
  float* red = reinterpret_cast<float*>(smem + staged_bytes(n, p.slice_cols) + sums_bytes(p.slice_cols));
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int RT = p.tiles_per_group, wpt = kWarps / RT;
  const int my_rt = warp / wpt, my_kw = warp % wpt;
  const int64_t groups_total = (p.total_tiles + RT - 1) / RT;

  stage_input_prepare(p.in, inv_rms);
  int buf = 0;
  for (int64_t c0 = 0; c0 < p.in.cols; c0 += p.slice_cols) {
    const int64_t sc = min(p.slice_cols, p.in.cols - c0);
    stage_slice(p, inv_rms, c0, sc, xs, sums, tok_scale, tok_unscale, warp_max_s);
    const int ktiles = static_cast<int>(sc / tc::kTileCols);
    for (int64_t grp = blockIdx.x; grp < groups_total; grp += gridDim.x) {
      const int64_t tile = grp * RT + my_rt;
      float total[SETS][4];
#pragma unroll
      for (int s = 0; s < SETS; ++s)
#pragma unroll
        for (int j = 0; j < 4; ++j) total[s][j] = 0.0f;
      if (tile < p.total_tiles) {
        const TcJob& job = p.jobs[job_of_tile(p, tile)];
        const int64_t row0 = (tile - job.tile_begin) * tc::kTileRows;
        if (job.w.bits == 4) {
          warp_tile_products<4, SETS>(p, job, row0, c0, ktiles, my_kw * kUnrollOf<4, SETS>, wpt * kUnrollOf<4, SETS>, xs, sums, total);
        } else {
          warp_tile_products<8, SETS>(p, job, row0, c0, ktiles, my_kw * kUnrollOf<8, SETS>, wpt * kUnrollOf<8, SETS>, xs, sums, total);
        }
      }
      // The next row tile's first round, into L2 while this one is reduced.
      prefetch_tile<SETS>(p, (grp + gridDim.x) * RT + my_rt, c0, ktiles, my_kw);
      float* rb = red + static_cast<int64_t>(buf) * kWarps * SETS * 128;
#pragma unroll
      for (int s = 0; s < SETS; ++s)
        *reinterpret_cast<float4*>(rb + (warp * SETS + s) * 128 + lane * 4) =
            make_float4(total[s][0], total[s][1], total[s][2], total[s][3]);
      __syncthreads();
      // Combine: row tile rt's warps, hi + lo columns, unscale, write or add into y.
      for (int idx = threadIdx.x; idx < RT * tc::kTileRows * n; idx += kThreads) {
        const int rt = idx / (tc::kTileRows * n), rem = idx % (tc::kTileRows * n);
        const int row_in = rem / n, tok = rem % n;
        const int64_t ctile = grp * RT + rt;
        if (ctile >= p.total_tiles) continue;
        const TcJob& job = p.jobs[job_of_tile(p, ctile)];
        const int64_t r = (ctile - job.tile_begin) * tc::kTileRows + row_in;
        if (r >= job.w.rows) continue;
        const int s = tok >> 2, col_hi = tok & 3, col_lo = col_hi + 4;
        const int li = tc::c_lane(row_in, col_hi) * 4 + tc::c_reg(row_in, col_hi);
        const int lo = tc::c_lane(row_in, col_lo) * 4 + tc::c_reg(row_in, col_lo);
        float v = 0.0f;
        for (int wv = rt * wpt; wv < (rt + 1) * wpt; ++wv) {
          const float* wr = rb + (wv * SETS + s) * 128;
          v += wr[li] + wr[lo];
        }
        v *= tok_unscale[tok];
        float* dst = job.y + tok * job.y_stride + r;
        *dst = (c0 > 0 || job.accumulate) ? *dst + v : v;
      }
      buf ^= 1;
    }
    __syncthreads();  // the next slice overwrites the staged input
  }
}

}  // namespace

bool matvec_tc_covers(const WeightMatrix& w) {
  if (w.format != WeightFormat::affine || (w.bits != 4 && w.bits != 8)) return false;
  if (w.group_size != 64 && w.group_size != 128) return false;
  if (w.cols <= 0 || w.cols % w.group_size != 0 || w.cols % tc::kTileCols != 0) return false;
  if (w.dtype != DType::bf16 && w.dtype != DType::f16 && w.dtype != DType::f32) return false;
  if (w.scales == nullptr || w.biases == nullptr) return false;
  return reinterpret_cast<uintptr_t>(w.data) % 16 == 0 && w.row_bytes() % 16 == 0;
}

void launch_matvec_tc(const StageInput& in, const MatvecJob* jobs, int job_count, cudaStream_t stream) {
  if (job_count < 1 || job_count > kMaxMatvecJobs) throw Error("launch_matvec_tc: 1 to 8 jobs");
  if (in.n < 1 || in.n > kMatvecMaxTokens) throw Error("launch_matvec_tc: 1 to 8 tokens");
  TcParams p{};
  p.in = in;
  p.job_count = job_count;
  int64_t tiles = 0;
  for (int j = 0; j < job_count; ++j) {
    const WeightMatrix& w = jobs[j].w;
    if (!matvec_tc_covers(w) || w.cols != in.cols) throw Error("launch_matvec_tc: job " + std::to_string(j) + " not covered: " + w.describe());
    p.jobs[j].w = to_dev_weight(w);
    p.jobs[j].y = jobs[j].y;
    p.jobs[j].y_stride = jobs[j].y_stride;
    p.jobs[j].accumulate = jobs[j].accumulate ? 1 : 0;
    p.jobs[j].tile_begin = tiles;
    tiles += (w.rows + tc::kTileRows - 1) / tc::kTileRows;
  }
  // Unused entries start past every tile, so job_of_tile never picks them.
  for (int j = job_count; j < kMaxMatvecJobs; ++j) p.jobs[j].tile_begin = INT64_MAX;
  p.total_tiles = tiles;
  if (tiles == 0) return;
  const int n = static_cast<int>(in.n);
  const int sets = tc::token_sets(n);
  const tc::Plan plan = tc::plan(n, in.cols);
  p.slice_cols = plan.slice_cols;
  p.tiles_per_group = plan.tiles_per_group;
  const size_t smem = static_cast<size_t>(plan.smem_bytes);
  void (*kernel)(TcParams) = sets == 1 ? kernel_matvec_tc<1> : kernel_matvec_tc<2>;
  ensure_dynamic_smem(reinterpret_cast<const void*>(kernel), smem);
  // Resident blocks per SM: at most 2 by registers (__launch_bounds__(kThreads, 2), 112-122 used), fewer
  // when the staged slice is large (228 KB of shared memory per SM, 1 KB of it reserved per block).
  const size_t per_block = smem + 1024 + 512;  // + reserve + static arrays
  const int per_sm = static_cast<int>(std::clamp<size_t>((228 * 1024) / per_block, 1, 2));
  const int64_t groups = (tiles + p.tiles_per_group - 1) / p.tiles_per_group;
  const int blocks = static_cast<int>(std::min<int64_t>(groups, int64_t{device_info().sm_count} * per_sm));
  launch_pdl(kernel, blocks, kThreads, smem, stream, p);
  HEARTH_CUDA_LAUNCH_CHECK();
}

}  // namespace hearth::engine::cuda
