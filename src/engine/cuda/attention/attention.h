#pragma once
// Launchers of the attention family. launch_attention serves every case (decode: the streaming split
// kernels of attention_decode.cu up to kAttentionDecodeMaxQueries queries; prefill: the float32-faithful
// tiled kernel of attention.cu); CudaOps sends Precision::fast prefill to launch_attention_cublas where
// cublas_attention_supports() says so. launch_attention_prep is the fused step before attention.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "engine/cuda/attention/attention_cublas_plan.h"
#include "engine/cuda/common/types.h"

struct cublasContext;  // cublasHandle_t is cublasContext*

namespace hearth::engine::cuda {

struct AttentionLaunch {
  const float* q = nullptr;
  int64_t q_stride = 0;
  const float* k_cache = nullptr;
  const float* v_cache = nullptr;
  int64_t kv_stride = 0;
  int64_t capacity = 0;  // rows of the cache (plans the decode split for graph replays)
  float* out = nullptr;
  int64_t out_stride = 0;
  int64_t n = 0;
  int64_t first_position = 0;
  const int64_t* dev_position = nullptr;
  int heads = 0, kv_heads = 0, head_dim = 0;
  float scale = 1.0f;
  void* workspace = nullptr;  // attention_workspace_bytes(); decode (n <= kAttentionDecodeMaxQueries) only
  // Prefill: bf16 operands, one MMA per product (Precision::fast); false keeps the float32-faithful
  // three-MMA split. Decode is float32 either way.
  bool fast = false;
};
// Query counts up to this run the decode kernels (split over the sequence, a workspace needed).
constexpr int64_t kAttentionDecodeMaxQueries = 8;
size_t attention_workspace_bytes(int heads, int head_dim, int64_t capacity, int64_t queries = 1);
void launch_attention(const AttentionLaunch& p, cudaStream_t stream);


// ---- Precision::fast prefill on cuBLAS (attention_cublas.cu) ----------------------------------------
// Workspace of launch_attention_cublas: cuBLAS's own scratch, the scores (float32), the weights (bf16)
// and the bf16 copy of the value rows [0, first_position + n).
size_t cublas_attention_workspace_bytes(int heads, int kv_heads, int head_dim, int64_t n, int64_t first_position,
                                        size_t budget_bytes = kAttentionScoreBudgetBytes);

struct CublasAttentionLaunch {
  AttentionLaunch a;  // n > kAttentionDecodeMaxQueries, position on the host (dev_position null)
  cublasContext* cublas = nullptr;  // bound to `stream` by the caller
  void* workspace = nullptr;        // cublas_attention_workspace_bytes() with the same budget, 256-byte aligned
  size_t budget_bytes = kAttentionScoreBudgetBytes;
};
// Throws hearth::Error (unsupported) for shapes it does not take (a device position, sizes past
// cuBLAS's 32-bit ints); the caller checks cublas_attention_supports() first.
bool cublas_attention_supports(const AttentionLaunch& a);
void launch_attention_cublas(const CublasAttentionLaunch& p, cudaStream_t stream);


// ---- the fused prep (attention_prep.cu) -------------------------------------------------------------
// A full-attention layer's work between its q/k/v projections and attention, in ONE kernel
// (engine/ops.h AttentionPrepArgs): split query/gate, per-head RMSNorm of q and k, RoPE (rotate-half)
// on both, k and v appended to the cache rows at the position (read from dev_position when set, so a
// recorded decode step replays at any position).
struct AttentionPrepLaunch {
  const float* q_proj = nullptr;  // [n, heads · head_dim · (gated ? 2 : 1)]
  int64_t q_proj_stride = 0;
  bool gated = false;
  float* k = nullptr;  // [n, kv_heads · head_dim], normed and rotated in place
  int64_t k_stride = 0;
  const float* v = nullptr;
  int64_t v_stride = 0;
  const float* q_norm = nullptr;
  const float* k_norm = nullptr;
  float eps = 1e-6f;
  int64_t n = 0;
  int heads = 0, kv_heads = 0, head_dim = 0, rotary_dim = 0;
  float theta = 10000.0f;
  int64_t first_position = 0;
  const int64_t* dev_position = nullptr;
  float* k_cache = nullptr;
  float* v_cache = nullptr;
  int64_t cache_stride = 0;  // k and v caches share it
  float* q = nullptr;  // out [n, heads · head_dim]
  int64_t q_stride = 0;
  float* gate = nullptr;  // out when gated
  int64_t gate_stride = 0;
};

void launch_attention_prep(const AttentionPrepLaunch& p, cudaStream_t stream);

}  // namespace hearth::engine::cuda
