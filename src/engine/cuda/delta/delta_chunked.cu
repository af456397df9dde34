// Chunked gated delta rule (see delta.h for the two kernels' jobs). Conventions follow the CPU
// reference (engine/cpu/delta_rule.cpp, chunked_head): within a chunk, G_i = Σ_{t≤i} g_t,
//   A[i][j]     = β_i (k̂_i·k̂_j) e^{G_i − G_j}   (j < i, else 0)
//   intra[i][j] = (q̂_i·k̂_j) e^{G_i − G_j}       (j ≤ i, else 0)
//   W = (I + A)⁻¹ (β k̂ e^G),  U = (I + A)⁻¹ (β v)          (forward substitution)
//   V' = U − W S;  O = (q̂ e^G) S + intra V';  S ← e^{G_last} S + Σ_j (k̂_j e^{G_last − G_j}) V'_jᵀ
// with k̂ = k / ‖k‖ and q̂ = q / ‖q‖ · Dk^-½ (norm eps 1e-6). A short last chunk is zero-padded: padded
// rows have k̂ = q̂ = v = β = 0 and G = G_last, so they add nothing and are never written.
// Every exponent above is ≤ 0 (g ≤ 0 and j ≤ i), so nothing overflows; masked entries are selected,
// never multiplied, so a large e^{G_i − G_j} for j > i cannot turn into inf · 0.
// The walk is a sequential loop over chunks per block (few blocks, one per SM), so its time is the latency
// of each step: prepare leaves it per-row factors (fq, fk, the chunk decay) so that the walk needs no
// gates and no norms, only plain copies of raw q and k rows and of W, intra, U; those it brings in with
// cp.async one phase ahead (next chunk's W, q, U while this chunk's O and state update run; this chunk's
// k and intra while its V' runs). The row factors go on the 64-long side of each product:
//   O_i = fq_i (q_i·S) + Σ_j intra_ij V'_j,   S ← e^{G_last} S + Σ_j k_j (fk_j V'_j)ᵀ.
// The walk's products and prepare's k̂ k̂ᵀ, q̂ k̂ᵀ run on tensor cores in 3xTF32 (float32-level results);
// inputs that are not 16-byte aligned take the general walk on CUDA cores (2a) instead.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <mutex>
#include <string>

#include "engine/cuda/common/cuda_check.h"
#include "engine/cuda/delta/delta.h"
#include "engine/cuda/delta/delta_chunked_layout.h"
#include "engine/cuda/common/device_weights.cuh"
#include "engine/cuda/common/launch.cuh"
#include "engine/cuda/common/smem_attr.h"

namespace hearth::engine::cuda {
namespace {

using namespace delta_layout;
constexpr int C = kChunk;
constexpr int D = kDim;
constexpr int kPadD = D + 4;  // prepare: MMA fragments read rows g, columns t: bank 4g + t, all 32 different
constexpr float kNormEps = 1e-6f;

static_assert(kChunk == kDeltaChunk);
static_assert(kThreads == 2 * D, "prepare: one thread per column of W and of U");
static_assert(C % kWarps == 0 && D % kWarps == 0, "walk: rows split evenly over the warps");
static_assert(kWarps == 8 && 2 * C == 16 * kWarps, "prepare: each warp 16 rows of k̂ k̂ᵀ or q̂ k̂ᵀ");

// Loads the chunk's gates into smem: G[i] the running sum of g from the chunk's first token (summed in
// token order, like the CPU), G = G_last on padded rows; beta (optional) zero on padded rows.
__device__ void load_chunk_gates(const DeltaRuleLaunch& p, int h, int64_t first, int len, float* G, float* beta) {
  const int tid = threadIdx.x;
  if (tid < C) {
    G[tid] = tid < len ? p.g[(first + tid) * p.g_stride + h] : 0.0f;
    if (beta) beta[tid] = tid < len ? p.beta[(first + tid) * p.beta_stride + h] : 0.0f;
  }
  __syncthreads();
  if (tid == 0) {
    // One thread, in token order (the CPU's rounding); the loads first, so the chain is 64 adds, not 64
    // shared-memory round trips.
    float g[C];
#pragma unroll
    for (int i = 0; i < C; ++i) g[i] = G[i];
    float acc = 0.0f;
#pragma unroll
    for (int i = 0; i < C; ++i) {
      acc += g[i];  // padded rows add 0
      G[i] = acc;
    }
  }
  __syncthreads();
}

// dst[i][c] = src_i[c] / sqrt(Σ src_i² + eps) · scale · factor[i] for rows i < len, 0 for rows [len, C);
// row_factor (optional) gets 1 / sqrt(Σ src_i² + eps) · scale per row. One warp per row, each lane four
// columns (coalesced, no alignment assumed of src or its stride); a warp's 8 rows are loaded before any
// is reduced, so their global-memory latencies overlap.
__device__ void load_normalised(float* dst, int dst_stride, const float* src, int64_t stride, int len, float scale,
                                const float* factor, float* row_factor) {
  constexpr int kRows = C / kWarps;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  float x[kRows][4];
#pragma unroll
  for (int t = 0; t < kRows; ++t) {
    const int i = warp + t * kWarps;
#pragma unroll
    for (int u = 0; u < 4; ++u) x[t][u] = i < len ? src[i * stride + lane + 32 * u] : 0.0f;
  }
#pragma unroll
  for (int t = 0; t < kRows; ++t) {
    const int i = warp + t * kWarps;
    float ss = 0.0f;
#pragma unroll
    for (int u = 0; u < 4; ++u) ss = fmaf(x[t][u], x[t][u], ss);
    ss = warp_sum(ss);
    const float norm = rsqrtf(ss + kNormEps) * scale;
    const float f = norm * (factor ? factor[i] : 1.0f);
    if (row_factor && lane == 0) row_factor[i] = norm;
#pragma unroll
    for (int u = 0; u < 4; ++u) dst[i * dst_stride + lane + 32 * u] = x[t][u] * f;
  }
}

// ---- TF32 tensor-core helpers (m16n8k8; g = lane / 4, t = lane % 4) ------------------------------------
__device__ __forceinline__ uint32_t to_tf32(float x) {
  uint32_t r;
  asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(r) : "f"(x));
  return r;
}
struct Tf32Pair {
  uint32_t hi, lo;
};
__device__ __forceinline__ Tf32Pair split_tf32(float x) {
  const uint32_t hi = to_tf32(x);
  return {hi, to_tf32(x - __uint_as_float(hi))};
}
__device__ __forceinline__ void mma_tf32(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// A fragment (16 × 8, row-major) of rows row0.., columns k0.. of a [.][stride] array: a0 (g, t),
// a1 (g + 8, t), a2 (g, t + 4), a3 (g + 8, t + 4), split into TF32 high and low parts.
__device__ __forceinline__ void load_a_split(const float* x, int stride, int row0, int k0, int g, int t, uint32_t (&hi)[4],
                                             uint32_t (&lo)[4]) {
  const float v[4] = {x[(row0 + g) * stride + k0 + t], x[(row0 + g + 8) * stride + k0 + t],
                      x[(row0 + g) * stride + k0 + t + 4], x[(row0 + g + 8) * stride + k0 + t + 4]};
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const Tf32Pair s = split_tf32(v[i]);
    hi[i] = s.hi, lo[i] = s.lo;
  }
}

// ---- 1. prepare: grid (chunks, v_heads), 256 threads ---------------------------------------------------
constexpr size_t kPrepareSmemFloats = 2 * C * kPadD + C * C + 5 * C;

__global__ void __launch_bounds__(kThreads) kernel_delta_chunk_prepare(const DeltaRuleLaunch p, float* workspace) {
  pdl_begin();
  extern __shared__ __align__(16) float smem[];
  float* Ks = smem;             // [C][kPadD] k̂
  float* Qs = Ks + C * kPadD;   // [C][kPadD] q̂
  float* A = Qs + C * kPadD;    // [C][C]
  float* G = A + C * C;         // [C]
  float* EG = G + C;            // [C] e^{G}
  float* B = EG + C;            // [C] beta
  float* NK = B + C;            // [C] 1 / ‖k_i‖
  float* NQ = NK + C;           // [C] 1 / ‖q_i‖ · Dk^-½
  const int tid = threadIdx.x;
  const int chunk = blockIdx.x, h = blockIdx.y;
  const int kh = h / (p.v_heads / p.k_heads);
  const int64_t first = static_cast<int64_t>(chunk) * C;
  const int len = static_cast<int>(std::min<int64_t>(C, p.n - first));

  load_chunk_gates(p, h, first, len, G, B);
  if (tid < C) EG[tid] = expf(G[tid]);
  load_normalised(Ks, kPadD, p.k + first * p.k_stride + static_cast<int64_t>(kh) * D, p.k_stride, len, 1.0f, nullptr,
                  NK);
  load_normalised(Qs, kPadD, p.q + first * p.q_stride + static_cast<int64_t>(kh) * D, p.q_stride, len,
                  rsqrtf(static_cast<float>(D)), nullptr, NQ);
  __syncthreads();
  const int chunks = static_cast<int>(chunk_count(p.n));
  float* ws = workspace + workspace_offset(h, chunk, chunks);
  // The walk's row factors (zero on padded rows, whose raw q and k it zero-fills anyway).
  if (tid < C) {
    ws[kFqOffset + tid] = tid < len ? NQ[tid] * EG[tid] : 0.0f;
    ws[kFkOffset + tid] = tid < len ? NK[tid] * expf(G[C - 1] - G[tid]) : 0.0f;
  } else if (tid < C + 4) {
    ws[kDecayOffset + (tid - C)] = tid == C ? expf(G[C - 1]) : 0.0f;
  }

  // k̂ k̂ᵀ (warps 0–3, rows 16w..) and q̂ k̂ᵀ (warps 4–7, rows 16(w − 4)..) against all 64 k̂ rows, on
  // tensor cores in 3xTF32: A fragments are rows of Ks or Qs, B fragments rows of Ks (B[r][j] = k̂_j[r]).
  {
    const int warp = tid >> 5, lane = tid & 31, g = lane >> 2, t = lane & 3;
    const bool k_warp = warp < 4;
    const int xrow = 16 * (warp & 3);
    const float* x = k_warp ? Ks : Qs;
    float acc[C / 8][4] = {};
#pragma unroll 2
    for (int k0 = 0; k0 < D; k0 += 8) {
      uint32_t a_hi[4], a_lo[4];
      load_a_split(x, kPadD, xrow, k0, g, t, a_hi, a_lo);
#pragma unroll
      for (int n = 0; n < C / 8; ++n) {
        const Tf32Pair b0 = split_tf32(Ks[(8 * n + g) * kPadD + k0 + t]);
        const Tf32Pair b1 = split_tf32(Ks[(8 * n + g) * kPadD + k0 + t + 4]);
        mma_tf32(acc[n], a_lo, b0.hi, b1.hi);
        mma_tf32(acc[n], a_hi, b0.lo, b1.lo);
        mma_tf32(acc[n], a_hi, b0.hi, b1.hi);
      }
    }
    float* intra = ws + kIntraOffset;
#pragma unroll
    for (int n = 0; n < C / 8; ++n)
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int i = xrow + mma_acc_row(lane, 2 * half), j = 8 * n + mma_acc_col(lane, 2 * half);
        float v[2];
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const float decay = j + e <= i ? expf(G[i] - G[j + e]) : 0.0f;
          v[e] = k_warp ? (j + e < i ? B[i] * acc[n][2 * half + e] * decay : 0.0f)
                        : (j + e <= i ? acc[n][2 * half + e] * decay : 0.0f);
        }
        if (k_warp) *reinterpret_cast<float2*>(A + i * C + j) = make_float2(v[0], v[1]);
        else *reinterpret_cast<float2*>(intra + i * C + j) = make_float2(v[0], v[1]);
      }
  }
  __syncthreads();

  // Forward substitution, one column per thread: threads [0, D) the columns of W, [D, 2D) those of U.
  // x_i = rhs_i − Σ_{j<i} A[i][j] x_j, summed in j order like the CPU. Fully unrolled so that x stays in
  // registers; A is read as a broadcast (every thread the same element).
  const bool is_w = tid < D;
  const int col = tid & (D - 1);
  float x[C];
  if (is_w) {
#pragma unroll
    for (int i = 0; i < C; ++i) x[i] = B[i] * Ks[i * kPadD + col] * EG[i];
  } else {
    const float* vcol = p.v + first * p.v_stride + static_cast<int64_t>(h) * D + col;
#pragma unroll
    for (int i = 0; i < C; ++i) x[i] = i < len ? B[i] * vcol[i * p.v_stride] : 0.0f;
  }
#pragma unroll
  for (int i = 1; i < C; ++i)
#pragma unroll
    for (int j = 0; j < i; j += 4) {
      // Four entries of A's row per 16-byte load (the conditions are compile-time: same sums as one by one).
      const float4 a = *reinterpret_cast<const float4*>(A + i * C + j);
      x[i] = fmaf(-a.x, x[j], x[i]);
      if (j + 1 < i) x[i] = fmaf(-a.y, x[j + 1], x[i]);
      if (j + 2 < i) x[i] = fmaf(-a.z, x[j + 2], x[i]);
      if (j + 3 < i) x[i] = fmaf(-a.w, x[j + 3], x[i]);
    }

  if (is_w) {
#pragma unroll
    for (int i = 0; i < C; ++i) ws[i * D + col] = x[i];  // padded rows too: the walk reads all C rows
  } else {
    // U goes where the output will be: the walk reads it back (its block, its rows, its columns) before
    // it writes O over it, so no workspace is needed for U.
    float* ucol = p.out + first * p.out_stride + static_cast<int64_t>(h) * D + col;
#pragma unroll
    for (int i = 0; i < C; ++i)
      if (i < len) ucol[i * p.out_stride] = x[i];
  }
}

// ---- 2a. walk, general (any alignment of q, k, out and their strides): grid (D / kColumns, v_heads) ------
constexpr size_t kWalkSmemFloats = 3 * C * D + C * C + D * kColumns + C * kColumns + 3 * C;

__global__ void __launch_bounds__(kThreads) kernel_delta_chunk_walk(const DeltaRuleLaunch p, const float* workspace) {
  pdl_begin();
  extern __shared__ __align__(16) float smem[];
  float* Qs = smem;                // [C][D]  q̂ e^{G}
  float* Ks = Qs + C * D;          // [C][D]  k̂ e^{G_last − G}
  float* Ws = Ks + C * D;          // [C][D]  W, then
  float* In = Ws + C * D;          // [C][C]  intra (contiguous with W, as in the workspace)
  float* S = In + C * C;           // [D][kColumns] the state slice
  float* Vp = S + D * kColumns;    // [C][kColumns] U, then V'
  float* G = Vp + C * kColumns;    // [C]
  float* EQ = G + C;               // [C] e^{G_i}
  float* EK = EQ + C;              // [C] e^{G_last − G_i}
  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  const int h = blockIdx.y, col0 = blockIdx.x * kColumns;
  const int kh = h / (p.v_heads / p.k_heads);
  const int chunks = static_cast<int>(chunk_count(p.n));
  float* state = p.state + static_cast<int64_t>(h) * D * p.dv + col0;  // S[r][c] = state[r · dv + c]

  for (int e = tid; e < D * kColumns; e += kThreads) S[e] = state[(e / kColumns) * p.dv + e % kColumns];

  for (int chunk = 0; chunk < chunks; ++chunk) {
    const int64_t first = static_cast<int64_t>(chunk) * C;
    const int len = static_cast<int>(std::min<int64_t>(C, p.n - first));
    __syncthreads();  // the previous chunk is done with every buffer
    load_chunk_gates(p, h, first, len, G, nullptr);
    if (tid < C) {
      EQ[tid] = expf(G[tid]);
      EK[tid] = expf(G[C - 1] - G[tid]);  // G[C − 1] = G_last (padded rows repeat it)
    }
    __syncthreads();
    load_normalised(Qs, D, p.q + first * p.q_stride + static_cast<int64_t>(kh) * D, p.q_stride, len,
                    rsqrtf(static_cast<float>(D)), EQ, nullptr);
    load_normalised(Ks, D, p.k + first * p.k_stride + static_cast<int64_t>(kh) * D, p.k_stride, len, 1.0f, EK, nullptr);
    {
      const float4* src = reinterpret_cast<const float4*>(workspace + workspace_offset(h, chunk, chunks));
      float4* dst = reinterpret_cast<float4*>(Ws);
      for (int e = tid; e < kFqOffset / 4; e += kThreads) dst[e] = src[e];  // W and intra
      const float* ucols = p.out + first * p.out_stride + static_cast<int64_t>(h) * p.dv + col0;
      for (int e = tid; e < C * kColumns; e += kThreads) {
        const int i = e / kColumns, c = e % kColumns;
        Vp[e] = i < len ? ucols[i * p.out_stride + c] : 0.0f;
      }
    }
    __syncthreads();

    // V' = U − W S and O = (q̂ e^G) S: rows warp·8 + u, column lane.
    const int row0 = walk_row0(warp);
    float vn[kRowsPerWarp], o[kRowsPerWarp];
#pragma unroll
    for (int u = 0; u < kRowsPerWarp; ++u) {
      vn[u] = Vp[(row0 + u) * kColumns + lane];
      o[u] = 0.0f;
    }
#pragma unroll 2
    for (int r = 0; r < D; r += 4) {
      float s[4];
#pragma unroll
      for (int t = 0; t < 4; ++t) s[t] = S[(r + t) * kColumns + lane];
#pragma unroll
      for (int u = 0; u < kRowsPerWarp; ++u) {
        const float4 w = *reinterpret_cast<const float4*>(Ws + (row0 + u) * D + r);
        const float4 q = *reinterpret_cast<const float4*>(Qs + (row0 + u) * D + r);
        vn[u] = fmaf(-w.x, s[0], vn[u]);
        vn[u] = fmaf(-w.y, s[1], vn[u]);
        vn[u] = fmaf(-w.z, s[2], vn[u]);
        vn[u] = fmaf(-w.w, s[3], vn[u]);
        o[u] = fmaf(q.x, s[0], o[u]);
        o[u] = fmaf(q.y, s[1], o[u]);
        o[u] = fmaf(q.z, s[2], o[u]);
        o[u] = fmaf(q.w, s[3], o[u]);
      }
    }
    // Each thread overwrites only the U entries it alone read.
#pragma unroll
    for (int u = 0; u < kRowsPerWarp; ++u) Vp[(row0 + u) * kColumns + lane] = vn[u];
    __syncthreads();

    // O += intra V' (intra is zero above the diagonal, so j runs to the warp's last row).
    const int jend = row0 + kRowsPerWarp;
    for (int j = 0; j < jend; j += 4) {
      float v4[4];
#pragma unroll
      for (int t = 0; t < 4; ++t) v4[t] = Vp[(j + t) * kColumns + lane];
#pragma unroll
      for (int u = 0; u < kRowsPerWarp; ++u) {
        const float4 c = *reinterpret_cast<const float4*>(In + (row0 + u) * C + j);
        o[u] = fmaf(c.x, v4[0], o[u]);
        o[u] = fmaf(c.y, v4[1], o[u]);
        o[u] = fmaf(c.z, v4[2], o[u]);
        o[u] = fmaf(c.w, v4[3], o[u]);
      }
    }
    {
      float* ocols = p.out + first * p.out_stride + static_cast<int64_t>(h) * p.dv + col0 + lane;
#pragma unroll
      for (int u = 0; u < kRowsPerWarp; ++u)
        if (row0 + u < len) ocols[(row0 + u) * p.out_stride] = o[u];
    }

    // S ← e^{G_last} S + Σ_j (k̂_j e^{G_last − G_j}) V'_jᵀ: state rows warp·16 + u, column lane. Every read
    // of S this chunk (V', O above) finished before the barrier that preceded O += intra V'.
    const int srow0 = walk_state_row0(warp);
    const float chunk_decay = expf(G[C - 1]);
    float s[kStateRowsPerWarp];
#pragma unroll
    for (int u = 0; u < kStateRowsPerWarp; ++u) s[u] = S[(srow0 + u) * kColumns + lane] * chunk_decay;
#pragma unroll 2
    for (int j = 0; j < C; ++j) {
      const float vj = Vp[j * kColumns + lane];
#pragma unroll
      for (int u = 0; u < kStateRowsPerWarp; u += 4) {
        const float4 k = *reinterpret_cast<const float4*>(Ks + j * D + srow0 + u);
        s[u] = fmaf(k.x, vj, s[u]);
        s[u + 1] = fmaf(k.y, vj, s[u + 1]);
        s[u + 2] = fmaf(k.z, vj, s[u + 2]);
        s[u + 3] = fmaf(k.w, vj, s[u + 3]);
      }
    }
#pragma unroll
    for (int u = 0; u < kStateRowsPerWarp; ++u) S[(srow0 + u) * kColumns + lane] = s[u];
  }
  __syncthreads();
  for (int e = tid; e < D * kColumns; e += kThreads) state[(e / kColumns) * p.dv + e % kColumns] = S[e];
}

// ---- asynchronous copies (the tensor-core walk) ----------------------------------------------------------
// 16-byte asynchronous copy global → shared; valid = false fills the 16 bytes with zeros instead (rows past
// the end of a short last chunk; src must still be a mapped address).
__device__ __forceinline__ void copy16_async(float* dst, const float* src, bool valid) {
  const unsigned d = static_cast<unsigned>(__cvta_generic_to_shared(dst));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(d), "l"(src), "r"(valid ? 16 : 0) : "memory");
}
__device__ __forceinline__ void copies_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
// Waits until at most one group (the most recently committed) is still in flight.
__device__ __forceinline__ void copies_wait_all_but_last() { asm volatile("cp.async.wait_group 1;\n" ::: "memory"); }
__device__ __forceinline__ void copies_wait_all() { asm volatile("cp.async.wait_group 0;\n" ::: "memory"); }

struct WalkChunk {
  const float* ws;  // the chunk's workspace slot
  int64_t first;    // its first token
  int len;          // its tokens (≤ C)
};

__device__ WalkChunk walk_chunk(const DeltaRuleLaunch& p, const float* workspace, int h, int chunk, int chunks) {
  const int64_t first = static_cast<int64_t>(chunk) * C;
  return {workspace + workspace_offset(h, chunk, chunks), first, static_cast<int>(std::min<int64_t>(C, p.n - first))};
}

// Contiguous floats (a multiple of 4) into dst.
__device__ void copy_flat_async(float* dst, const float* src, int floats) {
  for (int e = threadIdx.x; e < floats / 4; e += kThreads) copy16_async(dst + 4 * e, src + 4 * e, true);
}

// ---- 2b. walk on tensor cores (q, k, out 16-byte aligned): grid (D / kColumns, v_heads) ----------------
// The walk's three products per chunk as m16n8k8 TF32 MMAs in 3xTF32 (x = hi + lo, both TF32; a·b ≈
// hi·hi + hi·lo + lo·hi, float32-level accuracy). Warp w holds state rows 16w..16w+15 of the slice in
// MMA accumulator layout for the whole call. Per chunk:
//   1. warps 0–3: V' = U − W S for rows 16w.., warps 4–7: O = fq (q S) for rows 16(w − 4)..;
//   2. warps 4–7: O += intra V';   3. all: S ← e^{G_last} S + Kᵀ (fk V').
// Shared rows are padded so that every fragment load of a warp hits 32 different banks.
constexpr int kRowPadQ = D + 4;         // q and W rows: A fragments read rows g, columns t → bank 4g + t
constexpr int kRowPadK = D + 8;         // k rows, read transposed: rows t, columns g → bank 8t + g
constexpr int kRowPadIntra = C + 4;     // intra rows as A fragments
constexpr int kRowPadN = kColumns + 8;  // U, S, V' rows (B fragments: rows t, columns g → bank 8t + g)

struct MmaWalkSmem {
  float* q;      // A: [C][kRowPadQ] raw q rows
  float* w;      // A: [C][kRowPadQ] W
  float* u;      // A: [C][kRowPadN] U
  float* fq;     // A: fq [C], fk [C], decay, padding (one piece of the workspace slot)
  float* k;      // B: [C][kRowPadK] raw k rows
  float* intra;  // B: [C][kRowPadIntra]
  float* s_hi;   // [D][kRowPadN] the state slice as B operand, TF32 high part
  float* s_lo;   // ... and low part
  float* v_hi;   // [C][kRowPadN] V' (B operand of O += intra V')
  float* v_lo;
  float* f_hi;   // [C][kRowPadN] fk V' (B operand of the state update)
  float* f_lo;
};
constexpr int kMmaSetA = 2 * C * kRowPadQ + C * kRowPadN + 2 * C + 4;
constexpr int kMmaSetB = C * kRowPadK + C * kRowPadIntra;
constexpr size_t kMmaWalkSmemFloats = kMmaSetA + kMmaSetB + 2 * D * kRowPadN + 4 * C * kRowPadN;

__device__ MmaWalkSmem carve_mma_walk_smem(float* smem) {
  MmaWalkSmem m;
  m.q = smem;
  m.w = m.q + C * kRowPadQ;
  m.u = m.w + C * kRowPadQ;
  m.fq = m.u + C * kRowPadN;
  m.k = m.fq + 2 * C + 4;
  m.intra = m.k + C * kRowPadK;
  m.s_hi = m.intra + C * kRowPadIntra;
  m.s_lo = m.s_hi + D * kRowPadN;
  m.v_hi = m.s_lo + D * kRowPadN;
  m.v_lo = m.v_hi + C * kRowPadN;
  m.f_hi = m.v_lo + C * kRowPadN;
  m.f_lo = m.f_hi + C * kRowPadN;
  return m;
}

// Rows [0, C) of kWidth floats (a multiple of 4) from a [rows][src_stride] source into dst [C][dst_stride];
// rows ≥ len zero-filled.
template <int kWidth>
__device__ void copy_padded_rows_async(float* dst, int dst_stride, const float* src, int64_t src_stride, int len) {
  constexpr int kPieces = kWidth / 4;
  for (int e = threadIdx.x; e < C * kPieces; e += kThreads) {
    const int i = e / kPieces, c = (e % kPieces) * 4;
    const bool valid = i < len;
    copy16_async(dst + i * dst_stride + c, src + (valid ? i : 0) * src_stride + c, valid);
  }
}

__device__ void issue_mma_set_a(const DeltaRuleLaunch& p, const WalkChunk& c, int h, int kh, int col0,
                                const MmaWalkSmem& m) {
  copy_padded_rows_async<D>(m.q, kRowPadQ, p.q + c.first * p.q_stride + static_cast<int64_t>(kh) * D, p.q_stride, c.len);
  copy_padded_rows_async<D>(m.w, kRowPadQ, c.ws, D, C);
  copy_padded_rows_async<kColumns>(m.u, kRowPadN, p.out + c.first * p.out_stride + static_cast<int64_t>(h) * p.dv + col0,
                                   p.out_stride, c.len);
  copy_flat_async(m.fq, c.ws + kFqOffset, 2 * C + 4);  // fq, fk, the decay, padding
}

__device__ void issue_mma_set_b(const DeltaRuleLaunch& p, const WalkChunk& c, int kh, const MmaWalkSmem& m) {
  copy_padded_rows_async<D>(m.k, kRowPadK, p.k + c.first * p.k_stride + static_cast<int64_t>(kh) * D, p.k_stride, c.len);
  copy_padded_rows_async<C>(m.intra, kRowPadIntra, c.ws + kIntraOffset, C, C);
}

// d += A · B (3xTF32) for the n8 tile at column n0 of a B operand stored pre-split as [k][kRowPadN]:
// b0 (k = t, n = g), b1 (k = t + 4, n = g).
__device__ __forceinline__ void mma_3xtf32(float (&d)[4], const uint32_t (&a_hi)[4], const uint32_t (&a_lo)[4],
                                           const float* b_hi, const float* b_lo, int k0, int n0, int g, int t) {
  const int e0 = (k0 + t) * kRowPadN + n0 + g, e1 = e0 + 4 * kRowPadN;
  const uint32_t bh0 = __float_as_uint(b_hi[e0]), bh1 = __float_as_uint(b_hi[e1]);
  const uint32_t bl0 = __float_as_uint(b_lo[e0]), bl1 = __float_as_uint(b_lo[e1]);
  mma_tf32(d, a_lo, bh0, bh1);
  mma_tf32(d, a_hi, bl0, bl1);
  mma_tf32(d, a_hi, bh0, bh1);
}

// A fragment of Kᵀ (A[r][j] = k_j[r]) for state rows row0.. and chunk rows k0.., read transposed from the
// k rows [C][kRowPadK] (bank 8t + g), split into TF32 high and low parts.
__device__ __forceinline__ void load_kt_split(const float* k, int k0, int row0, int g, int t, uint32_t (&hi)[4],
                                              uint32_t (&lo)[4]) {
  const float v[4] = {k[(k0 + t) * kRowPadK + row0 + g], k[(k0 + t) * kRowPadK + row0 + g + 8],
                      k[(k0 + t + 4) * kRowPadK + row0 + g], k[(k0 + t + 4) * kRowPadK + row0 + g + 8]};
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const Tf32Pair sp = split_tf32(v[i]);
    hi[i] = sp.hi, lo[i] = sp.lo;
  }
}

// Writes x split into TF32 high and low parts at element e of two arrays.
__device__ __forceinline__ void store_split(float* hi, float* lo, int e, float x) {
  const Tf32Pair s = split_tf32(x);
  hi[e] = __uint_as_float(s.hi);
  lo[e] = __uint_as_float(s.lo);
}

__global__ void __launch_bounds__(kThreads) kernel_delta_chunk_walk_mma(const DeltaRuleLaunch p, const float* workspace) {
  pdl_begin();
  extern __shared__ __align__(16) float smem[];
  const MmaWalkSmem m = carve_mma_walk_smem(smem);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int h = blockIdx.y, col0 = blockIdx.x * kColumns;
  const int kh = h / (p.v_heads / p.k_heads);
  const int chunks = static_cast<int>(chunk_count(p.n));
  float* state = p.state + static_cast<int64_t>(h) * D * p.dv + col0;  // S[r][c] = state[r · dv + c]

  {
    const WalkChunk c0 = walk_chunk(p, workspace, h, 0, chunks);
    issue_mma_set_a(p, c0, h, kh, col0, m);
    copies_commit();
    issue_mma_set_b(p, c0, kh, m);
    copies_commit();
  }
  // This thread's state entries, accumulator layout: s[n][0..3] at rows srow + {0, 0, 8, 8}, columns
  // 8n + 2t + {0, 1, 0, 1}.
  const int srow = 16 * warp + g;
  float s[kColumns / 8][4];
#pragma unroll
  for (int n = 0; n < kColumns / 8; ++n)
#pragma unroll
    for (int i = 0; i < 4; ++i) s[n][i] = state[(srow + (i >> 1) * 8) * p.dv + 8 * n + 2 * t + (i & 1)];

  const bool v_warp = warp < 4;           // step 1: V' rows (else O rows)
  const int xrow = 16 * (warp & 3);       // step 1 and 2: the warp's first chunk row
  for (int chunk = 0; chunk < chunks; ++chunk) {
    const WalkChunk c = walk_chunk(p, workspace, h, chunk, chunks);
    // The state as step 1's B operand. Every read of the previous copy finished before the barrier
    // that followed step 1 of the previous chunk.
#pragma unroll
    for (int n = 0; n < kColumns / 8; ++n)
#pragma unroll
      for (int i = 0; i < 4; ++i)
        store_split(m.s_hi, m.s_lo, (srow + (i >> 1) * 8) * kRowPadN + 8 * n + 2 * t + (i & 1), s[n][i]);
    copies_wait_all_but_last();  // set A of this chunk (set B may still be in flight)
    __syncthreads();

    // 1. acc = (W or q) S over the 128 state rows. (Two accumulators for even and odd k steps, halving the
    // dependent MMA chains, measured slower on the H200: 994 µs against 928 at 27B, n = 4096.)
    float acc[kColumns / 8][4] = {};
    const float* x = v_warp ? m.w : m.q;
    // Fully unrolled (as is step 3): shared memory, not registers, limits this kernel to a block per SM, so
    // the registers for hoisting every fragment load ahead of its MMAs cost no occupancy.
#pragma unroll
    for (int k0 = 0; k0 < D; k0 += 8) {
      uint32_t a_hi[4], a_lo[4];
      load_a_split(x, kRowPadQ, xrow, k0, g, t, a_hi, a_lo);
#pragma unroll
      for (int n = 0; n < kColumns / 8; ++n) mma_3xtf32(acc[n], a_hi, a_lo, m.s_hi, m.s_lo, k0, 8 * n, g, t);
    }
    const float chunk_decay = m.fq[2 * C];
    if (v_warp) {
      // V' = U − W S, and fk V' for the state update.
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int r = xrow + g + (i >> 1) * 8;
        const float fk = m.fq[C + r];
#pragma unroll
        for (int n = 0; n < kColumns / 8; ++n) {
          const int e = r * kRowPadN + 8 * n + 2 * t + (i & 1);
          const float v = m.u[e] - acc[n][i];
          store_split(m.v_hi, m.v_lo, e, v);
          store_split(m.f_hi, m.f_lo, e, fk * v);
        }
      }
    } else {
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const float fq = m.fq[xrow + g + (i >> 1) * 8];
#pragma unroll
        for (int n = 0; n < kColumns / 8; ++n) acc[n][i] *= fq;
      }
    }
    __syncthreads();  // set A is free; V' and fk V' complete

    if (chunk + 1 < chunks) issue_mma_set_a(p, walk_chunk(p, workspace, h, chunk + 1, chunks), h, kh, col0, m);
    copies_commit();             // (an empty group on the last chunk keeps the counting uniform)
    copies_wait_all_but_last();  // set B of this chunk
    __syncthreads();

    if (!v_warp) {
      // 2. O += intra V' (intra is zero above the diagonal: k runs to the warp's last row).
      for (int k0 = 0; k0 < xrow + 16; k0 += 8) {
        uint32_t a_hi[4], a_lo[4];
        load_a_split(m.intra, kRowPadIntra, xrow, k0, g, t, a_hi, a_lo);
#pragma unroll
        for (int n = 0; n < kColumns / 8; ++n) mma_3xtf32(acc[n], a_hi, a_lo, m.v_hi, m.v_lo, k0, 8 * n, g, t);
      }
      float* orow = p.out + c.first * p.out_stride + static_cast<int64_t>(h) * p.dv + col0 + 2 * t;
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int r = xrow + g + 8 * half;
        if (r < c.len) {
#pragma unroll
          for (int n = 0; n < kColumns / 8; ++n)
            *reinterpret_cast<float2*>(orow + r * p.out_stride + 8 * n) =
                make_float2(acc[n][2 * half], acc[n][2 * half + 1]);
        }
      }
    }

    // 3. S ← e^{G_last} S + Kᵀ (fk V'): A[r][j] = k_j[r], read transposed from the k rows.
#pragma unroll
    for (int n = 0; n < kColumns / 8; ++n)
#pragma unroll
      for (int i = 0; i < 4; ++i) s[n][i] *= chunk_decay;
#pragma unroll
    for (int k0 = 0; k0 < C; k0 += 8) {
      uint32_t a_hi[4], a_lo[4];
      load_kt_split(m.k, k0, 16 * warp, g, t, a_hi, a_lo);
#pragma unroll
      for (int n = 0; n < kColumns / 8; ++n) mma_3xtf32(s[n], a_hi, a_lo, m.f_hi, m.f_lo, k0, 8 * n, g, t);
    }
    __syncthreads();  // set B, V' and fk V' are free

    if (chunk + 1 < chunks) issue_mma_set_b(p, walk_chunk(p, workspace, h, chunk + 1, chunks), kh, m);
    copies_commit();
  }
  copies_wait_all();  // only empty groups remain; nothing may be in flight when the block exits
#pragma unroll
  for (int n = 0; n < kColumns / 8; ++n)
#pragma unroll
    for (int i = 0; i < 4; ++i) state[(srow + (i >> 1) * 8) * p.dv + 8 * n + 2 * t + (i & 1)] = s[n][i];
}

// Whether the tensor-core walk's 16-byte copies are legal for these inputs (the workspace, from cudaMalloc
// or a plan's offset, is checked too).
bool walk_copies_aligned(const DeltaRuleLaunch& p, const void* workspace) {
  const auto aligned = [](const void* ptr) { return reinterpret_cast<uintptr_t>(ptr) % 16 == 0; };
  return aligned(p.q) && aligned(p.k) && aligned(p.out) && aligned(workspace) && p.q_stride % 4 == 0 &&
         p.k_stride % 4 == 0 && p.out_stride % 4 == 0;
}

// The stream-ordered pool keeps freed memory (instead of returning it at every synchronisation), so the
// per-call allocation of a launch without a workspace is a pool hit after the first.
void keep_pool_memory() {
  static std::once_flag once;
  std::call_once(once, [] {
    int device = 0;
    cudaMemPool_t pool;
    if (cudaGetDevice(&device) != cudaSuccess || cudaDeviceGetDefaultMemPool(&pool, device) != cudaSuccess) return;
    uint64_t threshold = std::numeric_limits<uint64_t>::max();
    cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold);
  });
}

}  // namespace

bool delta_chunked_supports(const DeltaRuleLaunch& p) {
  return p.dk == D && p.dv == D && p.k_heads > 0 && p.v_heads > 0 && p.v_heads % p.k_heads == 0;
}

size_t delta_chunked_workspace_bytes(int64_t n, int v_heads) {
  return static_cast<size_t>(chunk_count(n) * v_heads * kWorkspaceFloats) * sizeof(float);
}

void launch_delta_rule_chunked(const DeltaRuleLaunch& p, void* workspace, cudaStream_t stream, DeltaWalk walk) {
  if (p.n <= 0) return;
  if (!delta_chunked_supports(p))
    throw Error("CUDA chunked delta rule: needs dk = dv = 128 and v_heads a multiple of k_heads (got dk " +
                    std::to_string(p.dk) + ", dv " + std::to_string(p.dv) + ")",
                ErrorKind::unsupported);
  const bool aligned = walk_copies_aligned(p, workspace);  // (null: an allocation of its own, aligned)
  if (walk == DeltaWalk::automatic) walk = aligned ? DeltaWalk::tensor_cores : DeltaWalk::general;
  if (walk != DeltaWalk::general && !aligned)
    throw Error("CUDA chunked delta rule: this walk needs q, k, out and the workspace 16-byte aligned, with row "
                "strides a multiple of 4 floats",
                ErrorKind::unsupported);
  const int64_t chunks = chunk_count(p.n);
  const size_t bytes = delta_chunked_workspace_bytes(p.n, p.v_heads);
  void* ws = workspace;
  if (!ws) {
    keep_pool_memory();
    HEARTH_CUDA_CHECK(cudaMallocAsync(&ws, bytes, stream));
  }
  const size_t prepare_smem = kPrepareSmemFloats * sizeof(float);
  ensure_dynamic_smem(reinterpret_cast<const void*>(kernel_delta_chunk_prepare), prepare_smem);
  launch_pdl(kernel_delta_chunk_prepare, dim3(static_cast<unsigned>(chunks), static_cast<unsigned>(p.v_heads)),
             kThreads, prepare_smem, stream, p, static_cast<float*>(ws));
  HEARTH_CUDA_LAUNCH_CHECK();
  const dim3 walk_grid(static_cast<unsigned>(D / kColumns), static_cast<unsigned>(p.v_heads));
  const float* wsf = static_cast<const float*>(ws);
  switch (walk) {
    case DeltaWalk::tensor_cores: {
      const size_t smem = kMmaWalkSmemFloats * sizeof(float);
      ensure_dynamic_smem(reinterpret_cast<const void*>(kernel_delta_chunk_walk_mma), smem);
      launch_pdl(kernel_delta_chunk_walk_mma, walk_grid, kThreads, smem, stream, p, wsf);
      break;
    }
    default: {
      const size_t smem = kWalkSmemFloats * sizeof(float);
      ensure_dynamic_smem(reinterpret_cast<const void*>(kernel_delta_chunk_walk), smem);
      launch_pdl(kernel_delta_chunk_walk, walk_grid, kThreads, smem, stream, p, wsf);
    }
  }
  HEARTH_CUDA_LAUNCH_CHECK();
  if (!workspace) HEARTH_CUDA_CHECK(cudaFreeAsync(ws, stream));
}

}  // namespace hearth::engine::cuda
