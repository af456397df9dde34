// Chunked gated delta rule (see delta_chunked.h for the two kernels' jobs). Conventions follow the CPU
// reference (engine/cpu/delta_rule.cpp, chunked_head): within a chunk, G_i = Σ_{t≤i} g_t,
//   A[i][j]     = β_i (k̂_i·k̂_j) e^{G_i − G_j}   (j < i, else 0)
//   intra[i][j] = (q̂_i·k̂_j) e^{G_i − G_j}       (j ≤ i, else 0)
//   W = (I + A)⁻¹ (β k̂ e^G),  U = (I + A)⁻¹ (β v)          (forward substitution)
//   V' = U − W S;  O = (q̂ e^G) S + intra V';  S ← e^{G_last} S + Σ_j (k̂_j e^{G_last − G_j}) V'_jᵀ
// with k̂ = k / ‖k‖ and q̂ = q / ‖q‖ · Dk^-½ (norm eps 1e-6). A short last chunk is zero-padded: padded
// rows have k̂ = q̂ = v = β = 0 and G = G_last, so they add nothing and are never written.
// Every exponent above is ≤ 0 (g ≤ 0 and j ≤ i), so nothing overflows; masked entries are selected,
// never multiplied, so a large e^{G_i − G_j} for j > i cannot turn into inf · 0.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <mutex>
#include <string>

#include "engine/cuda/cuda_check.h"
#include "engine/cuda/delta_chunked.h"
#include "engine/cuda/delta_chunked_layout.h"
#include "engine/cuda/device_weights.cuh"
#include "engine/cuda/launch.cuh"
#include "engine/cuda/smem_attr.h"

namespace hearth::engine::cuda {
namespace {

using namespace delta_layout;
constexpr int C = kChunk;
constexpr int D = kDim;
constexpr int kPadD = D + 1;  // prepare: rows read by 16 threads at once land in different banks
constexpr float kNormEps = 1e-6f;

static_assert(kChunk == kDeltaChunk);
static_assert(kThreads == 2 * D, "prepare: one thread per column of W and of U");
static_assert(C % kWarps == 0 && D % kWarps == 0, "walk: rows split evenly over the warps");
static_assert(kThreads == 16 * 16 && C == 4 * 16, "prepare: 16 × 16 threads, 4 × 4 products each");

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
    float acc = 0.0f;
    for (int i = 0; i < C; ++i) {
      acc += G[i];  // padded rows add 0
      G[i] = acc;
    }
  }
  __syncthreads();
}

// dst[i][c] = src_i[c] / sqrt(Σ src_i² + eps) · scale · factor[i] for rows i < len, 0 for rows [len, C).
// One warp per row, each lane four columns (coalesced, no alignment assumed of src or its stride).
__device__ void load_normalised(float* dst, int dst_stride, const float* src, int64_t stride, int len, float scale,
                                const float* factor) {
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  for (int i = warp; i < C; i += kWarps) {
    float x[4];
#pragma unroll
    for (int u = 0; u < 4; ++u) x[u] = i < len ? src[i * stride + lane + 32 * u] : 0.0f;
    float ss = 0.0f;
#pragma unroll
    for (int u = 0; u < 4; ++u) ss = fmaf(x[u], x[u], ss);
    ss = warp_sum(ss);
    const float f = rsqrtf(ss + kNormEps) * scale * (factor ? factor[i] : 1.0f);
#pragma unroll
    for (int u = 0; u < 4; ++u) dst[i * dst_stride + lane + 32 * u] = x[u] * f;
  }
}

// ---- 1. prepare: grid (chunks, v_heads), 256 threads ---------------------------------------------------
constexpr size_t kPrepareSmemFloats = 2 * C * kPadD + C * C + 3 * C;

__global__ void __launch_bounds__(kThreads) kernel_delta_chunk_prepare(const DeltaRuleLaunch p, float* workspace) {
  pdl_begin();
  extern __shared__ __align__(16) float smem[];
  float* Ks = smem;             // [C][kPadD] k̂
  float* Qs = Ks + C * kPadD;   // [C][kPadD] q̂
  float* A = Qs + C * kPadD;    // [C][C]
  float* G = A + C * C;         // [C]
  float* EG = G + C;            // [C] e^{G}
  float* B = EG + C;            // [C] beta
  const int tid = threadIdx.x;
  const int chunk = blockIdx.x, h = blockIdx.y;
  const int kh = h / (p.v_heads / p.k_heads);
  const int64_t first = static_cast<int64_t>(chunk) * C;
  const int len = static_cast<int>(std::min<int64_t>(C, p.n - first));

  load_chunk_gates(p, h, first, len, G, B);
  if (tid < C) EG[tid] = expf(G[tid]);
  load_normalised(Ks, kPadD, p.k + first * p.k_stride + static_cast<int64_t>(kh) * D, p.k_stride, len, 1.0f, nullptr);
  load_normalised(Qs, kPadD, p.q + first * p.q_stride + static_cast<int64_t>(kh) * D, p.q_stride, len,
                  rsqrtf(static_cast<float>(D)), nullptr);
  __syncthreads();

  // k̂ k̂ᵀ and q̂ k̂ᵀ, 4 × 4 outputs of each per thread: rows b + 16 pi, columns a + 16 qj (interleaved so
  // that the 16 column rows a warp reads at once fall in 16 different banks).
  float kk[4][4] = {}, qk[4][4] = {};
#pragma unroll 4
  for (int r = 0; r < D; ++r) {
    float kj[4], ki[4], qi[4];
#pragma unroll
    for (int u = 0; u < 4; ++u) {
      kj[u] = Ks[product_col(tid, u) * kPadD + r];
      ki[u] = Ks[product_row(tid, u) * kPadD + r];
      qi[u] = Qs[product_row(tid, u) * kPadD + r];
    }
#pragma unroll
    for (int pi = 0; pi < 4; ++pi)
#pragma unroll
      for (int qj = 0; qj < 4; ++qj) {
        kk[pi][qj] = fmaf(ki[pi], kj[qj], kk[pi][qj]);
        qk[pi][qj] = fmaf(qi[pi], kj[qj], qk[pi][qj]);
      }
  }
  const int chunks = static_cast<int>(chunk_count(p.n));
  float* ws = workspace + workspace_offset(h, chunk, chunks);
  float* intra = ws + C * D;
#pragma unroll
  for (int pi = 0; pi < 4; ++pi)
#pragma unroll
    for (int qj = 0; qj < 4; ++qj) {
      const int i = product_row(tid, pi), j = product_col(tid, qj);
      const float decay = j <= i ? expf(G[i] - G[j]) : 0.0f;
      A[i * C + j] = j < i ? B[i] * kk[pi][qj] * decay : 0.0f;
      intra[i * C + j] = j <= i ? qk[pi][qj] * decay : 0.0f;
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
    for (int j = 0; j < i; ++j) x[i] = fmaf(-A[i * C + j], x[j], x[i]);

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

// ---- 2. walk: grid (D / kColumns, v_heads), 256 threads -------------------------------------------------
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
                    rsqrtf(static_cast<float>(D)), EQ);
    load_normalised(Ks, D, p.k + first * p.k_stride + static_cast<int64_t>(kh) * D, p.k_stride, len, 1.0f, EK);
    {
      const float4* src = reinterpret_cast<const float4*>(workspace + workspace_offset(h, chunk, chunks));
      float4* dst = reinterpret_cast<float4*>(Ws);
      for (int e = tid; e < kWorkspaceFloats / 4; e += kThreads) dst[e] = src[e];
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

void launch_delta_rule_chunked(const DeltaRuleLaunch& p, void* workspace, cudaStream_t stream) {
  if (p.n <= 0) return;
  if (!delta_chunked_supports(p))
    throw Error("CUDA chunked delta rule: needs dk = dv = 128 and v_heads a multiple of k_heads (got dk " +
                    std::to_string(p.dk) + ", dv " + std::to_string(p.dv) + ")",
                ErrorKind::unsupported);
  const int64_t chunks = chunk_count(p.n);
  const size_t bytes = delta_chunked_workspace_bytes(p.n, p.v_heads);
  void* ws = workspace;
  if (!ws) {
    keep_pool_memory();
    HEARTH_CUDA_CHECK(cudaMallocAsync(&ws, bytes, stream));
  }
  const size_t prepare_smem = kPrepareSmemFloats * sizeof(float);
  const size_t walk_smem = kWalkSmemFloats * sizeof(float);
  ensure_dynamic_smem(reinterpret_cast<const void*>(kernel_delta_chunk_prepare), prepare_smem);
  ensure_dynamic_smem(reinterpret_cast<const void*>(kernel_delta_chunk_walk), walk_smem);
  launch_pdl(kernel_delta_chunk_prepare, dim3(static_cast<unsigned>(chunks), static_cast<unsigned>(p.v_heads)),
             kThreads, prepare_smem, stream, p, static_cast<float*>(ws));
  HEARTH_CUDA_LAUNCH_CHECK();
  launch_pdl(kernel_delta_chunk_walk, dim3(static_cast<unsigned>(D / kColumns), static_cast<unsigned>(p.v_heads)),
             kThreads, walk_smem, stream, p, static_cast<const float*>(ws));
  HEARTH_CUDA_LAUNCH_CHECK();
  if (!workspace) HEARTH_CUDA_CHECK(cudaFreeAsync(ws, stream));
}

}  // namespace hearth::engine::cuda
