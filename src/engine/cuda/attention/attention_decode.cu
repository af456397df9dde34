// Decode attention streamed at memory speed: n <= kAttentionDecodeMaxQueries queries over a long float32
// KV cache (the plan and its reasons: attention_plan.h).
//
// One block of 256 threads per (KV head, piece, chunk of 8 query rows), in two passes over the piece:
//  1. scores: a group of LPK lanes takes one key; each lane loads its share of the K row as 16-byte
//     loads (the group reads consecutive 16-byte words, so a warp's load is a few whole 128-byte lines),
//     multiplies it with the 8 query rows (in shared memory) and the group reduce-scatters the 8 partial
//     sums: LPK - 1 shuffles for 8 dot products. Scores go to shared memory.
//  2. a warp per row turns the piece's scores into exp(s - max) and their sum; then every thread owns a
//     16-byte column slice of V and a subset of the keys, accumulates the 8 rows in registers, and the
//     key subsets are added in shared memory.
// The piece's (max, sum, unnormalised output) go to the workspace; kernel_decode_merge combines pieces.
// No integer division in the loops; all float32 (the result differs from the CPU only in summation order).
#include <cuda_runtime.h>

#include <algorithm>

#include "engine/cuda/attention/attention.h"
#include "engine/cuda/attention/attention_plan.h"
#include "engine/cuda/common/cuda_check.h"
#include "engine/cuda/common/device_weights.cuh"
#include "engine/cuda/common/launch.cuh"
#include "engine/cuda/common/smem_attr.h"

namespace hearth::engine::cuda {
namespace {

constexpr int kThreads = 256, kWarps = kThreads / 32, kRows = kDecodeRowsPerBlock;
// Row stride of the score buffer: 4 floats of padding put the 8 rows a pass-1 group stores in different banks.
constexpr int kScoreLd = kDecodeMaxPiece + 4;

struct DecodeStreamParams {
  const float* q;
  int64_t q_stride;
  const float* k;
  const float* v;
  int64_t kv_stride;
  const int64_t* dev_pos;
  int64_t pos;
  int n, heads, kv_heads;
  float scale;
  int64_t piece_target, piece_bound;  // attention_plan.h
  float* part_acc;                    // [n · heads][piece_bound][D]
  float* part_ml;                     // [n · heads][piece_bound][2]
};

// Shared memory: query rows [kRows][D], output [kRows][D], scores/probabilities [kRows][kScoreLd], row max
// and sum [kRows][2].
__host__ __device__ constexpr size_t decode_smem_bytes(int D) {
  return sizeof(float) * (2 * static_cast<size_t>(kRows) * D + static_cast<size_t>(kRows) * kScoreLd + 2 * kRows);
}

__device__ __forceinline__ float dot4(const float4 a, const float4 b, float acc) {
  acc = fmaf(a.x, b.x, acc);
  acc = fmaf(a.y, b.y, acc);
  acc = fmaf(a.z, b.z, acc);
  return fmaf(a.w, b.w, acc);
}

// Sums v[0..N) over the LPK lanes of a group (aligned, power of two); afterwards v[i], i < N / LPK, holds
// the total of original index reduce_scatter_index(lane % LPK, i, N, LPK).
template <int N, int LPK>
__device__ __forceinline__ void reduce_scatter(float (&v)[N], int lane) {
  int count = N;
#pragma unroll
  for (int o = LPK / 2; o >= 1; o /= 2) {
    const int half = count / 2;
    const bool upper = (lane & o) != 0;
#pragma unroll
    for (int i = 0; i < N / 2; ++i) {
      if (i < half) {
        const float mine = upper ? v[i + half] : v[i];
        const float other = upper ? v[i] : v[i + half];
        v[i] = mine + __shfl_xor_sync(0xffffffffu, other, o);
      }
    }
    count = half;
  }
}

// grid (kv_heads, piece_bound, row chunks), kThreads threads. Four blocks per SM (64 registers, ~49 KB of
// shared memory each) match the piece target of four blocks per SM: the whole grid is one wave.
template <int D>
__global__ void __launch_bounds__(kThreads) kernel_decode_stream(const DecodeStreamParams p) {
  constexpr int LPK = D / 4 < 8 ? D / 4 : 8;  // lanes per key in pass 1
  constexpr int F = D / (4 * LPK);            // 16-byte words per lane per key
  constexpr int KPW = 32 / LPK;               // keys per warp per step
  constexpr int C4 = D / 4;                   // 16-byte columns of a row (pass 2)
  constexpr int KG = kThreads / C4;           // key subsets in pass 2
  static_assert(kRows >= LPK && kThreads % C4 == 0, "decode attention layout");
  pdl_begin();  // launch.cuh: wait for the previous kernel before touching memory
  extern __shared__ __align__(16) float sm[];
  float* qs = sm;                      // [kRows][D], pre-scaled
  float* os = qs + kRows * D;          // [kRows][D]
  float* ss = os + kRows * D;          // [kRows][kScoreLd]
  float* ml = ss + kRows * kScoreLd;   // [kRows][2]

  const int kvh = blockIdx.x, piece = blockIdx.y, chunk = blockIdx.z;
  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  const int G = p.heads / p.kv_heads;
  const int rows_total = p.n * G;
  const int64_t pos0 = p.dev_pos ? *p.dev_pos : p.pos;
  const int64_t length = pos0 + p.n;  // keys 0 .. pos0 + n - 1 (query t sees up to pos0 + t)
  const DecodePieces pl = decode_pieces(length, p.piece_target);
  if (piece >= pl.count) return;  // past the end (the merge reads only the first pl.count pieces)
  const int64_t begin = piece * pl.len;
  const int cnt = static_cast<int>(min(pl.len, length - begin));

  // Query rows of this chunk: row r → (query t, head h); rows past n · G are zero (and never stored).
  for (int i = tid; i < kRows * D; i += kThreads) {
    const int r = i / D, d = i - r * D;  // once per block, not in a loop over keys
    const int gr = chunk * kRows + r;
    float val = 0.0f;
    if (gr < rows_total) {
      const int t = gr / G, h = kvh * G + (gr - t * G);
      val = p.q[t * p.q_stride + static_cast<int64_t>(h) * D + d] * p.scale;
    }
    qs[i] = val;
    os[i] = 0.0f;
  }
  __syncthreads();

  // ---- pass 1: scores of the piece's keys for the 8 rows ----
  const float* kbase = p.k + begin * p.kv_stride + static_cast<int64_t>(kvh) * D;
  const int group = lane / LPK, gl = lane % LPK;  // LPK is a power of two: shifts and masks
  for (int k0 = warp * KPW; k0 < cnt; k0 += kWarps * KPW) {
    const int key = k0 + group;
    float4 kw[F];
    const float4* krow = reinterpret_cast<const float4*>(kbase + key * p.kv_stride);
#pragma unroll
    for (int f = 0; f < F; ++f) kw[f] = key < cnt ? __ldg(krow + gl + LPK * f) : make_float4(0.f, 0.f, 0.f, 0.f);
    float part[kRows];
#pragma unroll
    for (int r = 0; r < kRows; ++r) {
      const float4* qrow = reinterpret_cast<const float4*>(qs + r * D);
      float s = 0.0f;
#pragma unroll
      for (int f = 0; f < F; ++f) s = dot4(qrow[gl + LPK * f], kw[f], s);
      part[r] = s;
    }
    reduce_scatter<kRows, LPK>(part, lane);
    if (key < cnt) {
#pragma unroll
      for (int i = 0; i < kRows / LPK; ++i) ss[reduce_scatter_index(gl, i, kRows, LPK) * kScoreLd + key] = part[i];
    }
  }
  __syncthreads();

  // ---- softmax of the piece, a warp per row (causal: query t sees keys up to pos0 + t) ----
  for (int r = warp; r < kRows; r += kWarps) {
    const int gr = chunk * kRows + r;
    const int t = gr < rows_total ? gr / G : 0;
    const int visible = static_cast<int>(max(int64_t{0}, min(static_cast<int64_t>(cnt), pos0 + t + 1 - begin)));
    float* srow = ss + r * kScoreLd;
    float mx = -INFINITY;
    for (int k = lane; k < visible; k += 32) mx = fmaxf(mx, srow[k]);
    mx = warp_max(mx);
    float sum = 0.0f;
    for (int k = lane; k < cnt; k += 32) {
      const float e = k < visible ? expf(srow[k] - mx) : 0.0f;
      srow[k] = e;
      sum += e;
    }
    sum = warp_sum(sum);
    if (lane == 0) ml[2 * r] = mx, ml[2 * r + 1] = sum;
  }
  __syncthreads();

  // ---- pass 2: output rows = Σ_k p[r][k] · V[k], a 16-byte column slice per thread ----
  {
    const int c4 = tid % C4, kg = tid / C4;  // compile-time powers of two
    const float* vbase = p.v + begin * p.kv_stride + static_cast<int64_t>(kvh) * D + 4 * c4;
    float acc[kRows][4];
#pragma unroll
    for (int r = 0; r < kRows; ++r) acc[r][0] = acc[r][1] = acc[r][2] = acc[r][3] = 0.0f;
    int k = kg;
    for (; k + 7 * KG < cnt; k += 8 * KG) {  // eight rows in flight
      float4 vw[8];
#pragma unroll
      for (int u = 0; u < 8; ++u) vw[u] = __ldg(reinterpret_cast<const float4*>(vbase + (k + u * KG) * p.kv_stride));
#pragma unroll
      for (int u = 0; u < 8; ++u) {
#pragma unroll
        for (int r = 0; r < kRows; ++r) {
          const float pr = ss[r * kScoreLd + k + u * KG];
          acc[r][0] = fmaf(pr, vw[u].x, acc[r][0]);
          acc[r][1] = fmaf(pr, vw[u].y, acc[r][1]);
          acc[r][2] = fmaf(pr, vw[u].z, acc[r][2]);
          acc[r][3] = fmaf(pr, vw[u].w, acc[r][3]);
        }
      }
    }
    for (; k < cnt; k += KG) {
      const float4 vw = __ldg(reinterpret_cast<const float4*>(vbase + k * p.kv_stride));
#pragma unroll
      for (int r = 0; r < kRows; ++r) {
        const float pr = ss[r * kScoreLd + k];
        acc[r][0] = fmaf(pr, vw.x, acc[r][0]);
        acc[r][1] = fmaf(pr, vw.y, acc[r][1]);
        acc[r][2] = fmaf(pr, vw.z, acc[r][2]);
        acc[r][3] = fmaf(pr, vw.w, acc[r][3]);
      }
    }
    // The KG key subsets are summed in a fixed order (subset 0 first), not with shared-memory atomics:
    // a decode step must give bit-identical results however its warps are scheduled (a restored state
    // continues bit-identically; tests/engine/cuda_model_test.cpp).
#pragma unroll 1
    for (int g = 0; g < KG; ++g) {
      if (kg == g) {
#pragma unroll
        for (int r = 0; r < kRows; ++r) {
#pragma unroll
          for (int j = 0; j < 4; ++j) {
            float* o = os + r * D + 4 * c4 + j;
            *o = g == 0 ? acc[r][j] : *o + acc[r][j];
          }
        }
      }
      if (KG > 1) __syncthreads();
    }
  }
  __syncthreads();

  // ---- the piece's partial result: row (t, h) is stored at index t · heads + h ----
  for (int i = tid; i < kRows * D; i += kThreads) {
    const int r = i / D, d = i - r * D;
    const int gr = chunk * kRows + r;
    if (gr >= rows_total) continue;
    const int t = gr / G, h = kvh * G + (gr - t * G);
    const int64_t slot = (static_cast<int64_t>(t) * p.heads + h) * p.piece_bound + piece;
    p.part_acc[slot * D + d] = os[i];
    if (d == 0) p.part_ml[2 * slot] = ml[2 * r], p.part_ml[2 * slot + 1] = ml[2 * r + 1];
  }
}

// Block-wide max / sum of blockDim.x (a multiple of 32) threads; every thread gets the result. Starts and
// ends with a barrier, so shared writes made before the call are visible after it.
template <bool kMax>
__device__ __forceinline__ float block_reduce(float v, float* red) {
  v = kMax ? warp_max(v) : warp_sum(v);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, warps = blockDim.x >> 5;
  __syncthreads();
  if (lane == 0) red[warp] = v;
  __syncthreads();
  v = lane < warps ? red[lane] : (kMax ? -INFINITY : 0.0f);
  v = kMax ? warp_max(v) : warp_sum(v);
  __syncthreads();
  return v;
}

struct DecodeMergeParams {
  const float* part_acc;
  const float* part_ml;
  const int64_t* dev_pos;
  int64_t pos;
  int n, D;
  int64_t piece_target, piece_bound;
  float* out;
  int64_t out_stride;
  int heads;
};

constexpr int kMergeCols4 = 16;  // 16-byte columns per merge block (fewer when head_dim < 64)

// grid (n · heads rows (t · heads + h), ceil(D / 4 / kMergeCols4)), 256 threads: each thread owns a 16-byte
// column and a subset of the pieces (many independent loads in flight), subsets summed in shared memory.
// Shared: one weight per piece.
__global__ void __launch_bounds__(256) kernel_decode_merge(const DecodeMergeParams p) {
  pdl_begin();  // launch.cuh: wait for the previous kernel before touching memory
  extern __shared__ float wts[];
  __shared__ float red[32];
  __shared__ float4 sums[256];
  const int row = blockIdx.x, tid = threadIdx.x;
  const int64_t pos0 = p.dev_pos ? *p.dev_pos : p.pos;
  const int64_t count = decode_pieces(pos0 + p.n, p.piece_target).count;
  const float* ml = p.part_ml + static_cast<int64_t>(row) * p.piece_bound * 2;
  float mx = -INFINITY;
  for (int64_t s = tid; s < count; s += blockDim.x) mx = fmaxf(mx, ml[2 * s]);
  mx = block_reduce<true>(mx, red);
  float denom = 0.0f;
  for (int64_t s = tid; s < count; s += blockDim.x) {
    const float m = ml[2 * s];
    const float w = m == -INFINITY ? 0.0f : expf(m - mx);  // a piece wholly after this query's position
    wts[s] = w;
    denom += w * ml[2 * s + 1];
  }
  denom = block_reduce<false>(denom, red);  // block_reduce syncs, so wts is complete
  const int cols4 = min(kMergeCols4, p.D / 4);  // a power of two: D is 16 .. 256
  const int subsets = blockDim.x / cols4;
  const int c = blockIdx.y * cols4 + tid % cols4, sub = tid / cols4;
  const float* acc = p.part_acc + static_cast<int64_t>(row) * p.piece_bound * p.D + 4 * c;
  float4 num = make_float4(0.f, 0.f, 0.f, 0.f);
  for (int64_t s = sub; s < count; s += subsets) {
    const float4 a = *reinterpret_cast<const float4*>(acc + s * p.D);
    const float w = wts[s];
    num.x = fmaf(w, a.x, num.x), num.y = fmaf(w, a.y, num.y), num.z = fmaf(w, a.z, num.z), num.w = fmaf(w, a.w, num.w);
  }
  sums[tid] = num;
  __syncthreads();
  if (tid < cols4) {
    float4 total = sums[tid];
    for (int i = 1; i < subsets; ++i) {
      const float4 o = sums[i * cols4 + tid];
      total.x += o.x, total.y += o.y, total.z += o.z, total.w += o.w;
    }
    const float inv = 1.0f / denom;
    const int t = row / p.heads, h = row - t * p.heads;
    float* dst = p.out + t * p.out_stride + static_cast<int64_t>(h) * p.D + 4 * c;
    dst[0] = total.x * inv, dst[1] = total.y * inv, dst[2] = total.z * inv, dst[3] = total.w * inv;
  }
}

template <int D>
void launch_stream(const DecodeStreamParams& d, dim3 grid, cudaStream_t stream) {
  const size_t smem = decode_smem_bytes(D);
  ensure_dynamic_smem(reinterpret_cast<const void*>(kernel_decode_stream<D>), smem);
  launch_pdl(kernel_decode_stream<D>, grid, kThreads, smem, stream, d);
}

int64_t piece_target_for(const AttentionLaunch& p) {
  return decode_piece_target(device_info().sm_count, p.kv_heads, decode_row_chunks(p.n, p.heads / p.kv_heads));
}

bool aligned16(const void* ptr) { return reinterpret_cast<uintptr_t>(ptr) % 16 == 0; }

}  // namespace

bool attention_decode_stream_supports(const AttentionLaunch& p) {
  const int D = p.head_dim;
  return p.n >= 1 && p.n <= kAttentionDecodeMaxQueries && p.kv_heads > 0 && p.heads % p.kv_heads == 0 &&
         (D == 16 || D == 32 || D == 64 || D == 128 || D == 256) && p.kv_stride % 4 == 0 && aligned16(p.k_cache) &&
         aligned16(p.v_cache) && p.workspace != nullptr;
}

size_t attention_decode_stream_workspace_bytes(int heads, int head_dim, int64_t capacity, int64_t n) {
  const int64_t bound = decode_workspace_piece_bound(capacity, device_info().sm_count, heads, n);
  return sizeof(float) * static_cast<size_t>(n) * heads * bound * (head_dim + 2) + 256;
}

void launch_attention_decode_stream(const AttentionLaunch& p, cudaStream_t stream) {
  const int G = p.heads / p.kv_heads, chunks = decode_row_chunks(p.n, G);
  DecodeStreamParams d{};
  d.q = p.q, d.q_stride = p.q_stride, d.k = p.k_cache, d.v = p.v_cache, d.kv_stride = p.kv_stride;
  d.dev_pos = p.dev_position, d.pos = p.first_position;
  d.n = static_cast<int>(p.n), d.heads = p.heads, d.kv_heads = p.kv_heads, d.scale = p.scale;
  d.piece_target = piece_target_for(p);
  d.piece_bound = decode_piece_bound(p.capacity, d.piece_target);
  d.part_acc = static_cast<float*>(p.workspace);
  d.part_ml = d.part_acc + static_cast<size_t>(p.n) * p.heads * d.piece_bound * p.head_dim;
  const dim3 grid(p.kv_heads, static_cast<unsigned>(d.piece_bound), chunks);
  switch (p.head_dim) {
    case 16: launch_stream<16>(d, grid, stream); break;
    case 32: launch_stream<32>(d, grid, stream); break;
    case 64: launch_stream<64>(d, grid, stream); break;
    case 128: launch_stream<128>(d, grid, stream); break;
    default: launch_stream<256>(d, grid, stream); break;
  }
  HEARTH_CUDA_LAUNCH_CHECK();
  DecodeMergeParams m{};
  m.part_acc = d.part_acc, m.part_ml = d.part_ml, m.dev_pos = d.dev_pos, m.pos = d.pos;
  m.n = d.n, m.D = p.head_dim, m.piece_target = d.piece_target, m.piece_bound = d.piece_bound;
  m.out = p.out, m.out_stride = p.out_stride, m.heads = p.heads;
  const size_t smem = sizeof(float) * static_cast<size_t>(d.piece_bound);
  ensure_dynamic_smem(reinterpret_cast<const void*>(kernel_decode_merge), smem);
  const int cols4 = std::min(kMergeCols4, p.head_dim / 4);
  launch_pdl(kernel_decode_merge, dim3(static_cast<unsigned>(p.n * p.heads), static_cast<unsigned>(p.head_dim / 4 / cols4)),
             256, smem, stream, m);
  HEARTH_CUDA_LAUNCH_CHECK();
}

}  // namespace hearth::engine::cuda
