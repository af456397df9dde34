// Precision::fast prefill attention as a TF32 and a bf16 cuBLAS product around a causal softmax
// (attention_cublas_plan.h says why and how the work is cut).
//
// Row-major views vs cuBLAS's column-major: a row-major [r × c] matrix with row stride ld is the
// column-major [c × r] matrix with leading dimension ld, i.e. its transpose. So for row-major
// C = A · B we ask cuBLAS for Cᵀ = Bᵀ · Aᵀ, where Bᵀ and Aᵀ are the row-major buffers read as they are:
//   scores   S_h [rows × L] = Q_h [rows × D] · K_gᵀ      →  S_hᵀ [L × rows] = (K_g as col-major [D × L])ᵀ
//                                                            · (Q_h as col-major [D × rows])
//            cuBLAS: op(A) = Aᵀ, A = K_g (lda kv_stride); op(B) = B, B = Q_h (ldb q_stride); m = L, n = rows, k = D
//   output   O_h [rows × D] = P_h [rows × L] · V_g [L × D] → O_hᵀ [D × rows] = (V_g as col-major [D × L])
//                                                            · (P_h as col-major [L × rows])
//            cuBLAS: op(A) = A, A = bf16 V_g (lda kv_heads · D); op(B) = B, B = bf16 P_h (ldb row_floats);
//            m = D, n = rows, k = L
// The batch runs over the group's query heads: Q_h and O_h step by D columns, S_h and P_h by one matrix,
// and K_g / V_g stay put (stride 0).
#include <cublas_api.h>
#include <cuda_bf16.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cmath>
#include <string>

#include "engine/cuda/attention/attention.h"
#include "engine/cuda/attention/attention_cublas_plan.h"
#include "engine/cuda/common/cuda_check.h"
#include "engine/cuda/cublas_library.h"
#include "engine/cuda/gemm/gemm.h"
#include "util/error.h"

namespace hearth::engine::cuda {
namespace {

constexpr int kSoftmaxThreads = 256;

size_t align256(size_t v) { return (v + 255) / 256 * 256; }

// Running (max, sum of exp(x - max)) of a set of scores; merging two is exact up to rounding.
struct MaxSum {
  float m, s;
};

__device__ __forceinline__ MaxSum merge(MaxSum a, MaxSum b) {
  const float m = fmaxf(a.m, b.m);
  if (m == -INFINITY) return {m, 0.0f};
  return {m, a.s * expf(a.m - m) + b.s * expf(b.m - m)};
}

__device__ __forceinline__ MaxSum add_score(MaxSum a, float x) {
  if (x > a.m) return {x, a.s * expf(a.m - x) + 1.0f};  // a.m = -inf gives 0 · 0 + 1
  return {a.m, a.s + expf(x - a.m)};
}

struct SoftmaxParams {
  const float* scores;    // [group][rows][row_floats], already scaled
  uint16_t* weights;      // bf16, the same layout
  int64_t row_floats;     // padded row length (a multiple of 32)
  int64_t head_stride;    // elements between the matrices of two heads
  int64_t keys;           // L: columns the second product reads
  int64_t first_query;    // sequence position of the block's first row
};

__device__ __forceinline__ uint32_t pack_bf16x2(float a, float b) {
  const __nv_bfloat162 h = __floats2bfloat162_rn(a, b);
  return *reinterpret_cast<const uint32_t*>(&h);
}
__device__ __forceinline__ void store_weights(uint16_t* row, int64_t quad, float a, float b, float c, float d) {
  reinterpret_cast<uint2*>(row)[quad] = make_uint2(pack_bf16x2(a, b), pack_bf16x2(c, d));
}

// The value rows [0, rows) of all KV heads as bf16, packed (row stride cols = kv_heads · head_dim).
__global__ void kernel_values_bf16(const float* v, int64_t v_stride, int64_t rows, int64_t cols, uint16_t* out) {
  const int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= rows * cols) return;
  const int64_t r = t / cols, c = t - r * cols;
  out[t] = __bfloat16_as_ushort(__float2bfloat16(v[r * v_stride + c]));
}

// grid (rows, group heads), kSoftmaxThreads threads: the weights of row r of head hh are the causal
// softmax of its scores (rows longer than the register-resident kernel below takes). Keys after the
// query's own position (and up to L) get weight 0, so that P · V over all L keys adds nothing for them;
// scores are read twice (max and sum, then the weights), the second time mostly from L2.
__global__ void __launch_bounds__(kSoftmaxThreads) kernel_causal_softmax(const SoftmaxParams p) {
  __shared__ MaxSum partial[kSoftmaxThreads / 32];
  __shared__ MaxSum total;
  const int64_t at = blockIdx.y * p.head_stride + static_cast<int64_t>(blockIdx.x) * p.row_floats;
  const int64_t own = p.first_query + static_cast<int64_t>(blockIdx.x) + 1;  // keys 0 .. the query's position
  const int64_t visible = own < p.keys ? own : p.keys;
  const int64_t quads = (p.keys + 3) / 4;                               // written: [0, 4 · quads) <= row_floats
  const auto* row4 = reinterpret_cast<const float4*>(p.scores + at);
  uint16_t* out = p.weights + at;

  MaxSum acc{-INFINITY, 0.0f};
  for (int64_t i = threadIdx.x; 4 * i < visible; i += kSoftmaxThreads) {
    const float4 v = row4[i];
    const float x[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
    for (int e = 0; e < 4; ++e)
      if (4 * i + e < visible) acc = add_score(acc, x[e]);
  }
#pragma unroll
  for (int off = 16; off > 0; off >>= 1)
    acc = merge(acc, {__shfl_xor_sync(0xffffffffu, acc.m, off), __shfl_xor_sync(0xffffffffu, acc.s, off)});
  if ((threadIdx.x & 31) == 0) partial[threadIdx.x >> 5] = acc;
  __syncthreads();
  if (threadIdx.x == 0) {
    MaxSum t = partial[0];
    for (int w = 1; w < kSoftmaxThreads / 32; ++w) t = merge(t, partial[w]);
    total = t;
  }
  __syncthreads();
  const float m = total.m, inv = 1.0f / total.s;  // s >= 1: the row's maximum contributes exp(0)
  for (int64_t i = threadIdx.x; i < quads; i += kSoftmaxThreads) {
    float x[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    if (4 * i < visible) {
      const float4 v = row4[i];
      const float in[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
      for (int e = 0; e < 4; ++e) x[e] = 4 * i + e < visible ? expf(in[e] - m) * inv : 0.0f;
    }
    store_weights(out, i, x[0], x[1], x[2], x[3]);
  }
}

template <class Op>
__device__ __forceinline__ float block_reduce(float v, float* scratch, Op op) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, off));
  __syncthreads();  // scratch may still be read by a previous reduction
  if ((threadIdx.x & 31) == 0) scratch[threadIdx.x >> 5] = v;
  __syncthreads();
  v = scratch[0];
#pragma unroll
  for (int w = 1; w < kSoftmaxThreads / 32; ++w) v = op(v, scratch[w]);
  return v;
}

// The same softmax for rows of at most 4 · kQuads · kSoftmaxThreads keys, held in registers: the scores
// are read once (the kernel above reads them twice).
template <int kQuads>
__global__ void __launch_bounds__(kSoftmaxThreads) kernel_causal_softmax_in_registers(const SoftmaxParams p) {
  __shared__ float scratch[kSoftmaxThreads / 32];
  const int64_t at = blockIdx.y * p.head_stride + static_cast<int64_t>(blockIdx.x) * p.row_floats;
  const int64_t own = p.first_query + static_cast<int64_t>(blockIdx.x) + 1;
  const int64_t visible = own < p.keys ? own : p.keys;
  const int64_t quads = (p.keys + 3) / 4;
  const auto* row4 = reinterpret_cast<const float4*>(p.scores + at);
  uint16_t* out = p.weights + at;
  float x[kQuads][4];
  float m = -INFINITY;
#pragma unroll
  for (int j = 0; j < kQuads; ++j) {
    const int64_t i = threadIdx.x + static_cast<int64_t>(j) * kSoftmaxThreads;
    float4 v = make_float4(-INFINITY, -INFINITY, -INFINITY, -INFINITY);
    if (4 * i < visible) v = row4[i];
    x[j][0] = v.x, x[j][1] = v.y, x[j][2] = v.z, x[j][3] = v.w;
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      if (4 * i + e >= visible) x[j][e] = -INFINITY;  // masked: weight exp(-inf) = 0
      m = fmaxf(m, x[j][e]);
    }
  }
  m = block_reduce(m, scratch, [](float a, float b) { return fmaxf(a, b); });  // finite: key 0 is visible
  float s = 0.0f;
#pragma unroll
  for (int j = 0; j < kQuads; ++j)
#pragma unroll
    for (int e = 0; e < 4; ++e) s += (x[j][e] = expf(x[j][e] - m));
  const float inv = 1.0f / block_reduce(s, scratch, [](float a, float b) { return a + b; });
#pragma unroll
  for (int j = 0; j < kQuads; ++j) {
    const int64_t i = threadIdx.x + static_cast<int64_t>(j) * kSoftmaxThreads;
    if (i < quads) store_weights(out, i, x[j][0] * inv, x[j][1] * inv, x[j][2] * inv, x[j][3] * inv);
  }
}

void launch_causal_softmax(const SoftmaxParams& sp, int64_t rows, int group, cudaStream_t stream) {
  const dim3 grid(static_cast<unsigned>(rows), static_cast<unsigned>(group));
  const int64_t per_thread = (sp.keys + 4 * kSoftmaxThreads - 1) / (4 * kSoftmaxThreads);  // float4s
  if (per_thread <= 4)
    kernel_causal_softmax_in_registers<4><<<grid, kSoftmaxThreads, 0, stream>>>(sp);
  else if (per_thread <= 8)
    kernel_causal_softmax_in_registers<8><<<grid, kSoftmaxThreads, 0, stream>>>(sp);
  else if (per_thread <= 16)
    kernel_causal_softmax_in_registers<16><<<grid, kSoftmaxThreads, 0, stream>>>(sp);
  else
    kernel_causal_softmax<<<grid, kSoftmaxThreads, 0, stream>>>(sp);
  HEARTH_CUDA_LAUNCH_CHECK();
}

void check_cublas(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw Error(std::string("cuBLAS ") + what + " failed (fast prefill attention): " +
                cublas_library().status_string(status));
}

int as_int(int64_t v) { return static_cast<int>(v); }

struct Layout {
  size_t scores = 0, weights = 0, values = 0, total = 0;  // byte offsets in the workspace
};

Layout layout_for(const AttentionBlockPlan& plan, int group, int kv_heads, int head_dim, int64_t keys) {
  const size_t scores = static_cast<size_t>(group) * static_cast<size_t>(plan.rows * plan.row_floats);
  Layout l;
  l.scores = kCublasWorkspaceBytes;
  l.weights = l.scores + align256(scores * sizeof(float));
  l.values = l.weights + align256(scores * 2);
  l.total = l.values + align256(static_cast<size_t>(keys) * static_cast<size_t>(kv_heads) * head_dim * 2);
  return l;
}

}  // namespace

size_t cublas_attention_workspace_bytes(int heads, int kv_heads, int head_dim, int64_t n, int64_t first_position,
                                        size_t budget_bytes) {
  const int group = kv_heads > 0 ? heads / kv_heads : 1;
  const AttentionBlockPlan plan = plan_attention_blocks(n, first_position, group, budget_bytes);
  return layout_for(plan, group, kv_heads, head_dim, first_position + n).total;
}

bool cublas_attention_supports(const AttentionLaunch& a) {
  if (a.dev_position || a.n <= kAttentionDecodeMaxQueries || a.kv_heads <= 0 || a.heads % a.kv_heads != 0 ||
      a.head_dim <= 0)
    return false;
  const int64_t keys = a.first_position + a.n;
  for (const int64_t v : {keys, score_row_floats(keys), a.q_stride, a.kv_stride, a.out_stride})
    if (v > INT_MAX) return false;
  return true;
}

void launch_attention_cublas(const CublasAttentionLaunch& p, cudaStream_t stream) {
  const AttentionLaunch& a = p.a;
  if (!cublas_attention_supports(a))
    throw Error("fast prefill attention: this call (" + std::to_string(a.n) + " queries after " +
                    std::to_string(a.first_position) + ", heads " + std::to_string(a.heads) + " / " +
                    std::to_string(a.kv_heads) + ") is not one the cuBLAS path takes",
                ErrorKind::unsupported);
  const int group = a.heads / a.kv_heads;
  const int64_t D = a.head_dim;
  const AttentionBlockPlan plan = plan_attention_blocks(a.n, a.first_position, group, p.budget_bytes);
  const int64_t all_keys = a.first_position + a.n;
  const Layout lay = layout_for(plan, group, a.kv_heads, a.head_dim, all_keys);
  auto* ws = static_cast<uint8_t*>(p.workspace);
  auto* scores = reinterpret_cast<float*>(ws + lay.scores);
  auto* weights = reinterpret_cast<uint16_t*>(ws + lay.weights);
  auto* values = reinterpret_cast<uint16_t*>(ws + lay.values);
  const long long head_stride = static_cast<long long>(plan.rows) * plan.row_floats;
  const int64_t value_cols = static_cast<int64_t>(a.kv_heads) * D;

  kernel_values_bf16<<<static_cast<unsigned>((all_keys * value_cols + 255) / 256), 256, 0, stream>>>(
      a.v_cache, a.kv_stride, all_keys, value_cols, values);
  HEARTH_CUDA_LAUNCH_CHECK();

  const CublasLibrary& lib = cublas_library();
  check_cublas(lib.set_workspace(p.cublas, ws, kCublasWorkspaceBytes), "cublasSetWorkspace");
  const float zero = 0.0f, one = 1.0f, scale = a.scale;
  for (int64_t row0 = 0; row0 < a.n; row0 += plan.rows) {
    const int64_t rows = std::min(plan.rows, a.n - row0);
    const int64_t keys = attention_block_keys(a.first_position, row0, rows);
    for (int g = 0; g < a.kv_heads; ++g) {
      const int64_t h0 = static_cast<int64_t>(g) * group;  // first query head of the group
      const float* k = a.k_cache + g * D;
      const uint16_t* v = values + g * D;
      const float* q = a.q + row0 * a.q_stride + h0 * D;
      float* out = a.out + row0 * a.out_stride + h0 * D;
      check_cublas(lib.gemm_strided_batched_ex(p.cublas, CUBLAS_OP_T, CUBLAS_OP_N, as_int(keys), as_int(rows),
                                               as_int(D), &scale, k, CUDA_R_32F, as_int(a.kv_stride), 0, q,
                                               CUDA_R_32F, as_int(a.q_stride), D, &zero, scores, CUDA_R_32F,
                                               as_int(plan.row_floats), head_stride, group,
                                               CUBLAS_COMPUTE_32F_FAST_TF32, CUBLAS_GEMM_DEFAULT),
                   "cublasGemmStridedBatchedEx (scores)");
      SoftmaxParams sp{scores, weights, plan.row_floats, head_stride, keys, a.first_position + row0};
      launch_causal_softmax(sp, rows, group, stream);
      check_cublas(lib.gemm_strided_batched_ex(p.cublas, CUBLAS_OP_N, CUBLAS_OP_N, as_int(D), as_int(rows),
                                               as_int(keys), &one, v, CUDA_R_16BF, as_int(value_cols), 0, weights,
                                               CUDA_R_16BF, as_int(plan.row_floats), head_stride, &zero, out,
                                               CUDA_R_32F, as_int(a.out_stride), D, group, CUBLAS_COMPUTE_32F,
                                               CUBLAS_GEMM_DEFAULT),
                   "cublasGemmStridedBatchedEx (output)");
    }
  }
}

}  // namespace hearth::engine::cuda
