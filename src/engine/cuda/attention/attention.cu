// Causal grouped-query attention over the KV cache.
//  - Decode (one query): the sequence is split into fixed-length pieces so that a long cache fills the
//    GPU; one block per (KV head, piece) serves all query heads of that KV head, so each K/V row is read
//    once, then a second kernel merges the pieces' (max, sum, partial output). The number of pieces
//    follows the cache capacity, not the current length, so a captured graph stays valid as the
//    sequence grows (pieces past the end exit at once). float32 throughout.
//  - Prefill (several queries): flash-style, a block per (64 queries, head) streams 32-key tiles through
//    shared memory; Q·Kᵀ and P·V run on bf16 tensor cores (WMMA, operands split into bf16 hi + lo for
//    float32-level accuracy) with float32 accumulation, the online softmax in float32.
// Bytes (decode): L · kv_heads · head_dim · 4 · 2 per layer for L cached positions.
#include <cuda_bf16.h>
#include <mma.h>

#include <algorithm>

#include "engine/cuda/attention/attention.h"
#include "engine/cuda/attention/attention_decode.h"
#include "engine/cuda/common/cuda_check.h"
#include "engine/cuda/common/device_weights.cuh"
#include "engine/cuda/common/launch.cuh"
#include "engine/cuda/common/smem_attr.h"

namespace hearth::engine::cuda {
namespace {

struct SplitPlan {
  int64_t split_len = 0;
  int64_t splits = 0;
};

SplitPlan plan_splits(int64_t capacity) {
  const int64_t target = std::max(1, 2 * device_info().sm_count);
  int64_t len = (capacity + target - 1) / target;
  len = std::max<int64_t>(256, (len + 31) / 32 * 32);
  return {len, std::max<int64_t>(1, (capacity + len - 1) / len)};
}

struct DecodeParams {
  const float* q;
  int64_t q_stride;
  const float* k;
  const float* v;
  int64_t kv_stride;
  const int64_t* dev_pos;
  int64_t pos;
  int heads, kv_heads, d;
  float scale;
  int64_t split_len, splits;
  float* part_acc;  // [heads][splits][d]
  float* part_ml;   // [heads][splits][2]
};

constexpr int kMaxDimPerLane = 8;  // head_dim <= 256

// grid (kv_heads, splits), block 32 · (heads / kv_heads): warp g is query head kvh · G + g.
__global__ void kernel_attention_decode(const DecodeParams p) {
  pdl_begin();  // launch.cuh: wait for the previous kernel before touching memory
  extern __shared__ float sm[];
  const int D = p.d, G = p.heads / p.kv_heads;
  float* qs = sm;                    // [G][D]
  float* kt = qs + G * D;            // [32][D + 1]
  float* vt = kt + 32 * (D + 1);     // [32][D]
  const int kvh = blockIdx.x, split = blockIdx.y;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int h = kvh * G + warp;
  const int64_t length = (p.dev_pos ? *p.dev_pos : p.pos) + 1;
  const int64_t begin = split * p.split_len, end = min(length, begin + p.split_len);
  const int64_t slot = static_cast<int64_t>(h) * p.splits + split;
  if (begin >= length) {
    if (lane == 0) p.part_ml[2 * slot] = -INFINITY, p.part_ml[2 * slot + 1] = 0.0f;
    return;
  }
  for (int d = lane; d < D; d += 32) qs[warp * D + d] = p.q[static_cast<int64_t>(h) * D + d] * p.scale;
  float m = -INFINITY, l = 0.0f;
  float acc[kMaxDimPerLane];
#pragma unroll
  for (int i = 0; i < kMaxDimPerLane; ++i) acc[i] = 0.0f;
  const int nd = (D + 31) / 32;

  for (int64_t ts = begin; ts < end; ts += 32) {
    const int cnt = static_cast<int>(min(int64_t{32}, end - ts));
    __syncthreads();
    for (int i = threadIdx.x; i < 32 * D; i += blockDim.x) {
      const int key = i / D, d = i - key * D;
      const bool valid = key < cnt;
      const int64_t at = (ts + key) * p.kv_stride + static_cast<int64_t>(kvh) * D + d;
      kt[key * (D + 1) + d] = valid ? p.k[at] : 0.0f;
      vt[key * D + d] = valid ? p.v[at] : 0.0f;
    }
    __syncthreads();
    float s = -INFINITY;
    if (lane < cnt) {
      const float* qrow = qs + warp * D;
      const float* krow = kt + lane * (D + 1);
      float s0 = 0.0f, s1 = 0.0f;
      for (int d = 0; d < D; d += 2) {
        s0 = fmaf(qrow[d], krow[d], s0);
        s1 = fmaf(qrow[d + 1], krow[d + 1], s1);
      }
      s = s0 + s1;
    }
    const float m_new = fmaxf(m, warp_max(s));
    const float pr = lane < cnt ? expf(s - m_new) : 0.0f;
    const float corr = expf(m - m_new);
    l = l * corr + warp_sum(pr);
#pragma unroll
    for (int i = 0; i < kMaxDimPerLane; ++i) acc[i] *= corr;
    for (int key = 0; key < cnt; ++key) {
      const float pk = __shfl_sync(0xffffffffu, pr, key);
#pragma unroll
      for (int i = 0; i < kMaxDimPerLane; ++i)
        if (i < nd && lane + 32 * i < D) acc[i] = fmaf(pk, vt[key * D + lane + 32 * i], acc[i]);
    }
    m = m_new;
  }
  if (lane == 0) p.part_ml[2 * slot] = m, p.part_ml[2 * slot + 1] = l;
#pragma unroll
  for (int i = 0; i < kMaxDimPerLane; ++i)
    if (i < nd && lane + 32 * i < D) p.part_acc[slot * D + lane + 32 * i] = acc[i];
}

// grid heads; merges the pieces of one head.
__global__ void kernel_attention_combine(const float* part_acc, const float* part_ml, int64_t splits, int D,
                                         float* out) {
  pdl_begin();  // launch.cuh: wait for the previous kernel before touching memory
  const int h = blockIdx.x;
  const float* ml = part_ml + static_cast<int64_t>(h) * splits * 2;
  float mx = -INFINITY;
  for (int64_t s = 0; s < splits; ++s) mx = fmaxf(mx, ml[2 * s]);
  float denom = 0.0f;
  for (int64_t s = 0; s < splits; ++s)
    if (ml[2 * s] != -INFINITY) denom += ml[2 * s + 1] * expf(ml[2 * s] - mx);
  for (int d = threadIdx.x; d < D; d += blockDim.x) {
    float num = 0.0f;
    for (int64_t s = 0; s < splits; ++s)
      if (ml[2 * s] != -INFINITY) num += part_acc[(static_cast<int64_t>(h) * splits + s) * D + d] * expf(ml[2 * s] - mx);
    out[static_cast<int64_t>(h) * D + d] = num / denom;
  }
}

// ---- prefill ------------------------------------------------------------------------------------------
// Q·Kᵀ and P·V use the same 3-term bf16 split as the GEMM (gemm_kernel.cuh): softmax turns absolute
// score errors into relative weight errors, so plain bf16 scores (error ~0.4% of |q||k|) would not do.
constexpr int kBQ = 64, kBKV = 32, kLdS = kBKV + 4, kLdP = kBKV + 8;

struct PrefillParams {
  const float* q;
  int64_t q_stride;
  const float* k;
  const float* v;
  int64_t kv_stride;
  float* out;
  int64_t out_stride;
  int64_t n;
  const int64_t* dev_pos;
  int64_t pos;
  int heads, kv_heads, d;
  float scale;
};

__host__ __device__ constexpr size_t round128(size_t v) { return (v + 127) / 128 * 128; }

struct PrefillSmem {
  size_t q_hi, q_lo, k_hi, k_lo, v_hi, v_lo, s, p_hi, p_lo, o, m, l, corr, total;
};

__host__ __device__ inline PrefillSmem prefill_smem(int D) {
  PrefillSmem s{};
  const size_t ldh = D + 8, ldo = D + 4;
  size_t at = 0;
  s.q_hi = at, at += round128(kBQ * ldh * 2);
  s.q_lo = at, at += round128(kBQ * ldh * 2);
  s.k_hi = at, at += round128(kBKV * ldh * 2);
  s.k_lo = at, at += round128(kBKV * ldh * 2);
  s.v_hi = at, at += round128(kBKV * ldh * 2);
  s.v_lo = at, at += round128(kBKV * ldh * 2);
  s.s = at, at += round128(kBQ * kLdS * 4);
  s.p_hi = at, at += round128(kBQ * kLdP * 2);
  s.p_lo = at, at += round128(kBQ * kLdP * 2);
  s.o = at, at += round128(kBQ * ldo * 4);
  s.m = at, at += round128(kBQ * 4);
  s.l = at, at += round128(kBQ * 4);
  s.corr = at, at += round128(kBQ * 4);
  s.total = at;
  return s;
}

template <bool Fast>
__device__ __forceinline__ void split_store(float v, uint16_t* hi, uint16_t* lo) {
  const __nv_bfloat16 h = __float2bfloat16(v);
  *hi = __bfloat16_as_ushort(h);
  if constexpr (!Fast) *lo = __bfloat16_as_ushort(__float2bfloat16(v - __bfloat162float(h)));
}

using FragA = nvcuda::wmma::fragment<nvcuda::wmma::matrix_a, 16, 16, 16, __nv_bfloat16, nvcuda::wmma::row_major>;
using FragAcc = nvcuda::wmma::fragment<nvcuda::wmma::accumulator, 16, 16, 16, float>;

// acc += A·B with A and B given as (hi, lo) bf16 pairs: lo·hi + hi·lo + hi·hi (exact), or hi·hi alone
// (fast: the lo parts are never written then).
template <bool Fast, class FragB>
__device__ __forceinline__ void mma3(FragAcc& acc, const uint16_t* a_hi, const uint16_t* a_lo, int lda,
                                     const uint16_t* b_hi, const uint16_t* b_lo, int ldb) {
  using namespace nvcuda;
  const auto bf = [](const uint16_t* p) { return reinterpret_cast<const __nv_bfloat16*>(p); };
  FragA ah;
  FragB bh;
  wmma::load_matrix_sync(ah, bf(a_hi), lda);
  wmma::load_matrix_sync(bh, bf(b_hi), ldb);
  if constexpr (!Fast) {
    FragA al;
    FragB bl;
    wmma::load_matrix_sync(al, bf(a_lo), lda);
    wmma::load_matrix_sync(bl, bf(b_lo), ldb);
    wmma::mma_sync(acc, al, bh, acc);
    wmma::mma_sync(acc, ah, bl, acc);
  }
  wmma::mma_sync(acc, ah, bh, acc);
}

// grid (ceil(n / 64), heads), 256 threads. Fast: bf16 operands, one MMA per product.
template <bool Fast>
__global__ void __launch_bounds__(256) kernel_attention_prefill(const PrefillParams p) {
  pdl_begin();  // launch.cuh: wait for the previous kernel before touching memory
  using namespace nvcuda;
  using FragBCol = wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::col_major>;
  using FragBRow = wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::row_major>;
  extern __shared__ __align__(128) unsigned char smem[];
  const int D = p.d, ldh = D + 8, ldo = D + 4;
  const PrefillSmem lay = prefill_smem(D);
  auto* Qh = reinterpret_cast<uint16_t*>(smem + lay.q_hi);
  auto* Ql = reinterpret_cast<uint16_t*>(smem + lay.q_lo);
  auto* Kh = reinterpret_cast<uint16_t*>(smem + lay.k_hi);
  auto* Kl = reinterpret_cast<uint16_t*>(smem + lay.k_lo);
  auto* Vh = reinterpret_cast<uint16_t*>(smem + lay.v_hi);
  auto* Vl = reinterpret_cast<uint16_t*>(smem + lay.v_lo);
  auto* S = reinterpret_cast<float*>(smem + lay.s);
  auto* Ph = reinterpret_cast<uint16_t*>(smem + lay.p_hi);
  auto* Pl = reinterpret_cast<uint16_t*>(smem + lay.p_lo);
  auto* O = reinterpret_cast<float*>(smem + lay.o);
  auto* mrow = reinterpret_cast<float*>(smem + lay.m);
  auto* lrow = reinterpret_cast<float*>(smem + lay.l);
  auto* crow = reinterpret_cast<float*>(smem + lay.corr);

  const int tid = threadIdx.x, warp = tid >> 5;
  const int h = blockIdx.y, kvh = h / (p.heads / p.kv_heads);
  const int64_t q0 = static_cast<int64_t>(blockIdx.x) * kBQ;
  const int rows_here = static_cast<int>(min(static_cast<int64_t>(kBQ), p.n - q0));
  const int64_t pos0 = p.dev_pos ? *p.dev_pos : p.pos;

  for (int i = tid; i < kBQ * D; i += blockDim.x) {
    const int r = i / D, d = i - r * D;
    const float val = r < rows_here ? p.q[(q0 + r) * p.q_stride + static_cast<int64_t>(h) * D + d] * p.scale : 0.0f;
    split_store<Fast>(val, Qh + r * ldh + d, Ql + r * ldh + d);
    O[r * ldo + d] = 0.0f;
  }
  if (tid < kBQ) mrow[tid] = -INFINITY, lrow[tid] = 0.0f;
  const int64_t kv_end = pos0 + q0 + rows_here;  // the last query sees keys up to its own position

  for (int64_t kv0 = 0; kv0 < kv_end; kv0 += kBKV) {
    __syncthreads();
    for (int i = tid; i < kBKV * D; i += blockDim.x) {
      const int r = i / D, d = i - r * D;
      const bool valid = kv0 + r < kv_end;
      const int64_t at = (kv0 + r) * p.kv_stride + static_cast<int64_t>(kvh) * D + d;
      split_store<Fast>(valid ? p.k[at] : 0.0f, Kh + r * ldh + d, Kl + r * ldh + d);
      split_store<Fast>(valid ? p.v[at] : 0.0f, Vh + r * ldh + d, Vl + r * ldh + d);
    }
    __syncthreads();
    {  // S = Q Kᵀ: 4 × 2 tiles of 16 × 16, one per warp
      const int fi = warp >> 1, fj = warp & 1;
      FragAcc acc;
      wmma::fill_fragment(acc, 0.0f);
      for (int kk = 0; kk < D; kk += 16)
        mma3<Fast, FragBCol>(acc, Qh + fi * 16 * ldh + kk, Ql + fi * 16 * ldh + kk, ldh, Kh + fj * 16 * ldh + kk,
                       Kl + fj * 16 * ldh + kk, ldh);
      wmma::store_matrix_sync(S + fi * 16 * kLdS + fj * 16, acc, kLdS, wmma::mem_row_major);
    }
    __syncthreads();
    {  // online softmax: 4 threads per query row, 8 keys each
      const int r = tid >> 2, qd = tid & 3;
      const int64_t qpos = pos0 + q0 + r;
      float sv[8];
      float mt = -INFINITY;
#pragma unroll
      for (int c = 0; c < 8; ++c) {
        const int64_t key = kv0 + qd * 8 + c;
        const bool valid = r < rows_here && key <= qpos;
        sv[c] = valid ? S[r * kLdS + qd * 8 + c] : -INFINITY;
        mt = fmaxf(mt, sv[c]);
      }
      mt = fmaxf(mt, __shfl_xor_sync(0xffffffffu, mt, 1));
      mt = fmaxf(mt, __shfl_xor_sync(0xffffffffu, mt, 2));
      const float m_old = mrow[r];
      const float m_new = fmaxf(m_old, mt);
      float sum = 0.0f;
#pragma unroll
      for (int c = 0; c < 8; ++c) {
        const float pv = sv[c] == -INFINITY ? 0.0f : expf(sv[c] - m_new);
        split_store<Fast>(pv, Ph + r * kLdP + qd * 8 + c, Pl + r * kLdP + qd * 8 + c);
        sum += pv;
      }
      sum += __shfl_xor_sync(0xffffffffu, sum, 1);
      sum += __shfl_xor_sync(0xffffffffu, sum, 2);
      const float corr = m_old == -INFINITY ? 0.0f : expf(m_old - m_new);
      __syncwarp();
      if (qd == 0) {
        mrow[r] = m_new;
        lrow[r] = lrow[r] * corr + sum;
        crow[r] = corr;
      }
    }
    __syncthreads();
    for (int i = tid; i < kBQ * D; i += blockDim.x) {
      const int r = i / D, d = i - r * D;
      O[r * ldo + d] *= crow[r];
    }
    __syncthreads();
    {  // O += P V: warp → one 16-row band, every other 16-column tile of head_dim
      const int fi = warp >> 1;
      for (int fj = warp & 1; fj < D / 16; fj += 2) {
        FragAcc c;
        float* o_tile = O + fi * 16 * ldo + fj * 16;
        wmma::load_matrix_sync(c, o_tile, ldo, wmma::mem_row_major);
#pragma unroll
        for (int kk = 0; kk < kBKV; kk += 16)
          mma3<Fast, FragBRow>(c, Ph + fi * 16 * kLdP + kk, Pl + fi * 16 * kLdP + kk, kLdP, Vh + kk * ldh + fj * 16,
                         Vl + kk * ldh + fj * 16, ldh);
        wmma::store_matrix_sync(o_tile, c, ldo, wmma::mem_row_major);
      }
    }
  }
  __syncthreads();
  for (int i = tid; i < kBQ * D; i += blockDim.x) {
    const int r = i / D, d = i - r * D;
    if (r < rows_here) p.out[(q0 + r) * p.out_stride + static_cast<int64_t>(h) * D + d] = O[r * ldo + d] / lrow[r];
  }
}

}  // namespace

size_t attention_workspace_bytes(int heads, int head_dim, int64_t capacity, int64_t queries) {
  const SplitPlan plan = plan_splits(capacity);  // the fallback decode kernel (one query)
  const size_t fallback = sizeof(float) * static_cast<size_t>(heads) * plan.splits * (head_dim + 2) + 256;
  return std::max(fallback, attention_decode_stream_workspace_bytes(heads, head_dim, capacity,
                                                                    std::clamp<int64_t>(queries, 1, kAttentionDecodeMaxQueries)));
}

void launch_attention(const AttentionLaunch& p, cudaStream_t stream) {
  if (p.n <= 0) return;
  const int D = p.head_dim;
  if (p.kv_heads <= 0 || p.heads % p.kv_heads != 0 || D % 16 != 0 || D > 32 * kMaxDimPerLane ||
      p.heads / p.kv_heads > 32)
    throw Error("CUDA attention: heads " + std::to_string(p.heads) + " / kv heads " + std::to_string(p.kv_heads) +
                    " / head_dim " + std::to_string(D) +
                    " is outside what the kernels handle (head_dim a multiple of 16 up to 256, at most 32 query "
                    "heads per KV head)",
                ErrorKind::unsupported);
  if (p.n <= kAttentionDecodeMaxQueries && attention_decode_stream_supports(p)) {
    launch_attention_decode_stream(p, stream);
    return;
  }
  if (p.n == 1) {
    const SplitPlan plan = plan_splits(p.capacity);
    const int G = p.heads / p.kv_heads;
    DecodeParams d{};
    d.q = p.q, d.q_stride = p.q_stride, d.k = p.k_cache, d.v = p.v_cache, d.kv_stride = p.kv_stride;
    d.dev_pos = p.dev_position, d.pos = p.first_position;
    d.heads = p.heads, d.kv_heads = p.kv_heads, d.d = D, d.scale = p.scale;
    d.split_len = plan.split_len, d.splits = plan.splits;
    d.part_acc = static_cast<float*>(p.workspace);
    d.part_ml = d.part_acc + static_cast<size_t>(p.heads) * plan.splits * D;
    const size_t smem = sizeof(float) * (static_cast<size_t>(G) * D + 32 * (D + 1) + 32 * D);
    ensure_dynamic_smem(reinterpret_cast<const void*>(kernel_attention_decode), smem);
    launch_pdl(kernel_attention_decode, dim3(p.kv_heads, static_cast<unsigned>(plan.splits)), 32 * G, smem, stream, d);
    HEARTH_CUDA_LAUNCH_CHECK();
    launch_pdl(kernel_attention_combine, p.heads, 256, 0, stream, d.part_acc, d.part_ml, plan.splits, D, p.out);
    HEARTH_CUDA_LAUNCH_CHECK();
    return;
  }
  PrefillParams pp{};
  pp.q = p.q, pp.q_stride = p.q_stride, pp.k = p.k_cache, pp.v = p.v_cache, pp.kv_stride = p.kv_stride;
  pp.out = p.out, pp.out_stride = p.out_stride, pp.n = p.n;
  pp.dev_pos = p.dev_position, pp.pos = p.first_position;
  pp.heads = p.heads, pp.kv_heads = p.kv_heads, pp.d = D, pp.scale = p.scale;
  const size_t smem = prefill_smem(D).total;
  const auto kernel = p.fast ? kernel_attention_prefill<true> : kernel_attention_prefill<false>;
  ensure_dynamic_smem(reinterpret_cast<const void*>(kernel), smem);
  launch_pdl(kernel, dim3(static_cast<unsigned>((p.n + kBQ - 1) / kBQ), p.heads), 256, smem, stream, pp);
  HEARTH_CUDA_LAUNCH_CHECK();
}

}  // namespace hearth::engine::cuda
