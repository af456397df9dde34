#pragma once
// Launchers of the Gated DeltaNet family: the delta rule (launch_delta_rule: the token-by-token kernel
// below kDeltaChunkedMinTokens, the chunked form above) and the one-kernel decode step (launch_delta_decode).
// The short convolution and the gate activations are element-wise kernels (elementwise/elementwise.h).
//
// The chunked (prefill) form of the gated delta rule on CUDA, for Dk = Dv = 128 (the Qwen3.5/3.6 shapes).
// Same function as the token-by-token kernel (launch_delta_rule), computed in chunks of 64 tokens:
//  1. prepare (grid chunks × value heads, every chunk at once): the chunk's intra-chunk matrices,
//     W = (I + A)⁻¹ (β k e^G) into the workspace, U = (I + A)⁻¹ (β v) into `out`, and the decayed
//     causal Q Kᵀ into the workspace;
//  2. walk (grid Dv/32 column slices × value heads): carries a 128 × 32 slice of the state through the
//     chunks in order: V' = U − W S, O = (q e^G) S + intra V', S = e^{G_last} S + (k e^{G_last − G})ᵀ V'
//     (three versions of it: DeltaWalk below).
// Columns of the state never mix, so the slices are independent blocks.
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "engine/cuda/common/types.h"

namespace hearth::engine::cuda {

struct DeltaRuleLaunch {
  const float *q = nullptr, *k = nullptr, *v = nullptr, *g = nullptr, *beta = nullptr;
  int64_t q_stride = 0, k_stride = 0, v_stride = 0, g_stride = 0, beta_stride = 0;
  float* state = nullptr;
  float* out = nullptr;
  int64_t out_stride = 0;
  int64_t n = 0;
  int k_heads = 0, v_heads = 0, dk = 0, dv = 0;
};
void launch_delta_rule(const DeltaRuleLaunch& p, cudaStream_t stream);

inline constexpr int kDeltaChunk = 64;
// Below this many tokens the recurrent kernel is used (two launches and a workspace are not worth it).
inline constexpr int64_t kDeltaChunkedMinTokens = 16;

// Whether the chunked kernels cover this shape (dk = dv = 128, v_heads a multiple of k_heads).
bool delta_chunked_supports(const DeltaRuleLaunch& p);

// Scratch of the chunked kernels: per value head and chunk, W (64 × 128) and the intra matrix (64 × 64).
size_t delta_chunked_workspace_bytes(int64_t n, int v_heads);

// The walk kernel (step 2), both computing the same function: general (any alignment, CUDA cores) and
// tensor_cores (3xTF32 MMAs, inputs brought in by cp.async one phase ahead), which needs q, k, out and
// the workspace 16-byte aligned with row strides a multiple of 4 floats; automatic takes tensor_cores
// where it can, else general. The explicit ones are for tests and benchmarks.
enum class DeltaWalk { automatic, general, tensor_cores };

// The chunked form. `workspace` holds delta_chunked_workspace_bytes(n, v_heads) bytes, or is null: then
// the launch takes a stream-ordered allocation of its own (cudaMallocAsync, freed after the kernels).
// Throws hearth::Error when !delta_chunked_supports(p), or when `walk` names a walk the alignment rules out.
void launch_delta_rule_chunked(const DeltaRuleLaunch& p, void* workspace, cudaStream_t stream,
                               DeltaWalk walk = DeltaWalk::automatic);

// The token-by-token kernel alone (delta_rule.cu), whatever n: launch_delta_rule picks between the two;
// this is for comparisons (tests, benchmarks).
void launch_delta_rule_recurrent(const DeltaRuleLaunch& p, cudaStream_t stream);

// ---- the one-kernel decode step (delta_decode.cu) -------------------------------------------------------
// One decode step (one token) of the Gated DeltaNet mixer in ONE kernel: conv1d + SiLU with the conv
// state update, the gates (g, beta), the delta rule with the q/k L2 norms, and the gated RMSNorm by z
// (engine/ops.h DeltaStepArgs; the composition of launch_conv1d, launch_delta_gates, launch_delta_rule
// and launch_gated_rms_norm computes the same thing).
struct DeltaDecodeLaunch {
  const float* qkv = nullptr;  // [channels] = [q (k_heads·dk) | k (k_heads·dk) | v (v_heads·dv)]: conv input
  float* conv_state = nullptr;         // [(conv_kernel-1), channels]
  const float* conv_weight = nullptr;  // [channels, conv_kernel]
  int64_t conv_kernel = 4;
  const float* z = nullptr;  // [v_heads · dv]
  const float* a = nullptr;  // [v_heads]
  const float* b = nullptr;  // [v_heads]
  const float* a_log = nullptr;
  const float* dt_bias = nullptr;
  float* state = nullptr;  // [v_heads, dk, dv]
  const float* norm_weight = nullptr;  // [dv]
  float eps = 1e-6f;
  float* out = nullptr;  // [v_heads · dv]
  int k_heads = 0, v_heads = 0, dk = 0, dv = 0;
};

// True when the one-kernel form covers these sizes (dk in {16, 32, 64, 128}, conv_kernel 2..8, a
// cluster of at most 8 blocks); otherwise the caller runs the composition.
bool delta_decode_supports(int k_heads, int v_heads, int dk, int dv, int64_t conv_kernel);
void launch_delta_decode(const DeltaDecodeLaunch& p, cudaStream_t stream);

// Several sequences' decode steps of one layer in ONE launch (continuous batching: each sequence its own
// conv and recurrent state, the layer's weights shared). `shared` carries the weights and sizes; its
// per-sequence pointers are ignored in favour of the arrays.
constexpr int kDeltaDecodeMaxBatch = 16;
struct DeltaDecodeBatch {
  DeltaDecodeLaunch shared;
  int count = 0;
  const float* qkv[kDeltaDecodeMaxBatch] = {};
  float* conv_state[kDeltaDecodeMaxBatch] = {};
  const float* z[kDeltaDecodeMaxBatch] = {};
  const float* a[kDeltaDecodeMaxBatch] = {};
  const float* b[kDeltaDecodeMaxBatch] = {};
  float* state[kDeltaDecodeMaxBatch] = {};
  float* out[kDeltaDecodeMaxBatch] = {};
};
void launch_delta_decode_batch(const DeltaDecodeBatch& batch, cudaStream_t stream);

}  // namespace hearth::engine::cuda
