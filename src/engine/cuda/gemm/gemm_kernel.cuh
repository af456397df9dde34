#pragma once
// The dequantising tensor-core GEMM: C[m][o] = Σ_k A[m][k] · W[o][k] for a block of 64 activation rows
// × 128 weight rows. Each 32-wide K step stages A (float32) and W (decoded from its stored format chunk
// by chunk) in shared memory and runs 16×16×16 bf16 WMMA with float32 accumulation; nothing outside
// the tile is ever dequantised. The same kernel serves the grouped MoE GEMMs: a tile table names each
// tile's expert and its rows, A rows may be gathered and C rows scattered, scaled and atomically
// accumulated.
//
// Precision: every operand is split into bf16 hi + bf16 lo (x = hi + lo to 2^-17) and the product is
// hi·hi + hi·lo + lo·hi, so results match float32 arithmetic to about 1e-5 relative instead of bf16's
// 4e-3 — the tiny reference models' greedy tokens are 5e-4 apart on their logit scale. This costs three
// MMAs per step; the kernel is limited by staging and decoding rather than by the tensor cores.
// SPLIT = false (Precision::fast) stages only the bf16-rounded operands and runs one MMA per product.
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <mma.h>

#include <cstdint>

#include "engine/cuda/common/device_weights.cuh"
#include "engine/cuda/common/launch.cuh"

namespace hearth::engine::cuda {

constexpr int kGemmBM = 64;
constexpr int kGemmBN = 128;
constexpr int kGemmBK = 32;
constexpr int kGemmThreads = 256;
constexpr int kGemmLds = kGemmBK + 8;  // bf16 elements per staged row (padding against bank conflicts)
constexpr int kGemmLdc = kGemmBN + 4;  // floats per row of the output staging

struct GemmParams {
  DevWeight w;  // grouped: shape of every expert; data/scales/biases come from the tables
  const float* x = nullptr;
  int64_t x_stride = 0;
  float* y = nullptr;
  int64_t y_stride = 0;
  int64_t m = 0;  // plain mode: rows of A
  int accumulate = 0;
  int x_vec4 = 0;  // x rows 16-byte aligned with cols % 4 == 0: float4 loads
  // grouped mode
  const int32_t* tile_expert = nullptr;  // [tiles] expert of the tile, -1: no tile
  const int32_t* tile_row0 = nullptr;    // [tiles] first (sorted) row of the tile
  const int32_t* expert_end = nullptr;   // [experts] end of the expert's rows
  const uint8_t* const* e_data = nullptr;
  const uint8_t* const* e_scales = nullptr;
  const uint8_t* const* e_biases = nullptr;
  const int32_t* a_rows = nullptr;  // optional: A row of sorted row i
  const int32_t* y_rows = nullptr;  // optional: C row of sorted row i
  const float* y_scale = nullptr;   // optional: factor of sorted row i
  int atomic = 0;                   // C rows may repeat: accumulate with atomicAdd
};

__device__ __forceinline__ const __nv_bfloat16* as_bf16(const uint16_t* p) {
  return reinterpret_cast<const __nv_bfloat16*>(p);
}

// Stores 8 floats as bf16 hi parts and bf16 lo parts (the rounding residues).
__device__ __forceinline__ void store_split(const float* v, uint16_t* hi, uint16_t* lo) {
#pragma unroll
  for (int i = 0; i < 8; i += 2) {
    const __nv_bfloat162 h = __floats2bfloat162_rn(v[i], v[i + 1]);
    const float2 hf = __bfloat1622float2(h);
    *reinterpret_cast<__nv_bfloat162*>(hi + i) = h;
    *reinterpret_cast<__nv_bfloat162*>(lo + i) = __floats2bfloat162_rn(v[i] - hf.x, v[i + 1] - hf.y);
  }
}

// Stores 8 floats rounded to bf16 (the single-MMA mode).
__device__ __forceinline__ void store_bf16(const float* v, uint16_t* out) {
#pragma unroll
  for (int i = 0; i < 8; i += 2)
    *reinterpret_cast<__nv_bfloat162*>(out + i) = __floats2bfloat162_rn(v[i], v[i + 1]);
}

struct GemmSmem {
  union {
    struct {
      uint16_t a_hi[kGemmBM][kGemmLds];  // bf16 bits (raw storage keeps the union trivial)
      uint16_t a_lo[kGemmBM][kGemmLds];
      uint16_t b_hi[kGemmBN][kGemmLds];
      uint16_t b_lo[kGemmBN][kGemmLds];
    } in;
    float c[kGemmBM][kGemmLdc];
  };
};

template <Codec C, bool GROUPED, bool SPLIT = true>
__global__ void __launch_bounds__(kGemmThreads) kernel_gemm(const GemmParams p) {
  pdl_begin();  // launch.cuh: wait for the previous kernel before touching memory
  using namespace nvcuda;
  __shared__ __align__(128) GemmSmem sm;

  DevWeight w = p.w;
  int64_t row0, mrows;
  if constexpr (GROUPED) {
    const int e = p.tile_expert[blockIdx.y];
    if (e < 0) return;
    row0 = p.tile_row0[blockIdx.y];
    mrows = min(static_cast<int64_t>(kGemmBM), static_cast<int64_t>(p.expert_end[e]) - row0);
    w.data = p.e_data[e];
    w.scales = p.e_scales ? p.e_scales[e] : nullptr;  // dense formats (f32/f16/bf16) have no scales table
    w.biases = p.e_biases ? p.e_biases[e] : nullptr;
  } else {
    row0 = static_cast<int64_t>(blockIdx.y) * kGemmBM;
    mrows = min(static_cast<int64_t>(kGemmBM), p.m - row0);
  }
  const int64_t n0 = static_cast<int64_t>(blockIdx.x) * kGemmBN;
  const int tid = threadIdx.x, warp = tid >> 5;
  const int wm = warp >> 2, wn = warp & 3;  // warp tile: rows wm·32.., cols wn·32..

  // A staging: thread → (row, 8 consecutive k).
  const int a_row = tid >> 2, a_k = (tid & 3) * 8;
  const float* a_src = nullptr;
  if (a_row < mrows) {
    const int64_t sorted = row0 + a_row;
    const int64_t src_row = p.a_rows ? p.a_rows[sorted] : sorted;
    a_src = p.x + src_row * p.x_stride;
  }
  // W staging: threads 0..127 → (weight row, the tile's 32-element chunk).
  const int b_row = tid & (kGemmBN - 1);
  const bool b_stager = tid < kGemmBN;
  const bool b_valid = n0 + b_row < w.rows;

  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[2][2];
#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j) wmma::fill_fragment(acc[i][j], 0.0f);

  for (int64_t k0 = 0; k0 < w.cols; k0 += kGemmBK) {
    {  // A tile
      float v[8];
      const int64_t k = k0 + a_k;
      if (a_src != nullptr && p.x_vec4 && k + 8 <= w.cols) {
#pragma unroll
        for (int i = 0; i < 2; ++i) {
          const float4 f = *reinterpret_cast<const float4*>(a_src + k + 4 * i);
          v[4 * i] = f.x, v[4 * i + 1] = f.y, v[4 * i + 2] = f.z, v[4 * i + 3] = f.w;
        }
      } else {
#pragma unroll
        for (int i = 0; i < 8; ++i) v[i] = (a_src != nullptr && k + i < w.cols) ? a_src[k + i] : 0.0f;
      }
      if constexpr (SPLIT) {
        store_split(v, &sm.in.a_hi[a_row][a_k], &sm.in.a_lo[a_row][a_k]);
      } else {
        store_bf16(v, &sm.in.a_hi[a_row][a_k]);
      }
    }
    if (b_stager) {  // W tile
      float wv[32];
      const int64_t chunk = k0 / 32;
      if (b_valid) {
        decode_chunk<C>(w, n0 + b_row, chunk, wv);
      } else {
#pragma unroll
        for (int i = 0; i < 32; ++i) wv[i] = 0.0f;
      }
#pragma unroll
      for (int i = 0; i < 32; i += 8) {
        if constexpr (SPLIT) {
          store_split(wv + i, &sm.in.b_hi[b_row][i], &sm.in.b_lo[b_row][i]);
        } else {
          store_bf16(wv + i, &sm.in.b_hi[b_row][i]);
        }
      }
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kGemmBK; kk += 16) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major> fa_hi[2], fa_lo[2];
      wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::col_major> fb_hi[2], fb_lo[2];
#pragma unroll
      for (int i = 0; i < 2; ++i) {
        wmma::load_matrix_sync(fa_hi[i], as_bf16(&sm.in.a_hi[wm * 32 + i * 16][kk]), kGemmLds);
        if constexpr (SPLIT) wmma::load_matrix_sync(fa_lo[i], as_bf16(&sm.in.a_lo[wm * 32 + i * 16][kk]), kGemmLds);
      }
#pragma unroll
      for (int j = 0; j < 2; ++j) {
        wmma::load_matrix_sync(fb_hi[j], as_bf16(&sm.in.b_hi[wn * 32 + j * 16][kk]), kGemmLds);
        if constexpr (SPLIT) wmma::load_matrix_sync(fb_lo[j], as_bf16(&sm.in.b_lo[wn * 32 + j * 16][kk]), kGemmLds);
      }
#pragma unroll
      for (int i = 0; i < 2; ++i)
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          if constexpr (SPLIT) {
            wmma::mma_sync(acc[i][j], fa_lo[i], fb_hi[j], acc[i][j]);
            wmma::mma_sync(acc[i][j], fa_hi[i], fb_lo[j], acc[i][j]);
          }
          wmma::mma_sync(acc[i][j], fa_hi[i], fb_hi[j], acc[i][j]);
        }
    }
    __syncthreads();
  }

#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j)
      wmma::store_matrix_sync(&sm.c[wm * 32 + i * 16][wn * 32 + j * 16], acc[i][j], kGemmLdc, wmma::mem_row_major);
  __syncthreads();

  for (int i = tid; i < kGemmBM * kGemmBN; i += kGemmThreads) {
    const int r = i / kGemmBN, c = i % kGemmBN;
    if (r >= mrows || n0 + c >= w.rows) continue;
    const int64_t sorted = row0 + r;
    float v = sm.c[r][c];
    if (p.y_scale) v *= p.y_scale[sorted];
    const int64_t yr = p.y_rows ? p.y_rows[sorted] : sorted;
    float* dst = p.y + yr * p.y_stride + n0 + c;
    if (p.atomic) {
      atomicAdd(dst, v);
    } else {
      *dst = p.accumulate ? *dst + v : v;
    }
  }
}

}  // namespace hearth::engine::cuda
