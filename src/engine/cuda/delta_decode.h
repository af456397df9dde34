#pragma once
// One decode step (one token) of the Gated DeltaNet mixer in ONE kernel: conv1d + SiLU with the conv
// state update, the gates (g, beta), the delta rule with the q/k L2 norms, and the gated RMSNorm by z
// (engine/ops.h DeltaStepArgs; the composition of launch_conv1d, launch_delta_gates, launch_delta_rule
// and launch_gated_rms_norm computes the same thing).
#include <cuda_runtime_api.h>

#include <cstdint>

namespace hearth::engine::cuda {

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

// The block layout: a cluster of blocks per KEY head — (v_heads/k_heads) value heads × ceil(dv/32)
// column blocks — so the conv state of the key head's q/k channels, read by all of them, is rewritten
// only after every block of the cluster has read it, and each value head's RMS is summed across its
// column blocks through distributed shared memory.
__host__ __device__ constexpr int delta_decode_column_blocks(int dv) { return (dv + 31) / 32; }
__host__ __device__ constexpr int delta_decode_cluster_size(int k_heads, int v_heads, int dv) {
  return (v_heads / k_heads) * delta_decode_column_blocks(dv);
}
// Block x of a cluster → (value head within the key head, column block); value head = kh·ratio + r.
struct DeltaDecodeBlock {
  int value_in_key = 0;  // r
  int column_block = 0;
};
__host__ __device__ constexpr DeltaDecodeBlock delta_decode_block(int block_x, int dv) {
  return {block_x / delta_decode_column_blocks(dv), block_x % delta_decode_column_blocks(dv)};
}

// True when the one-kernel form covers these sizes (dk in {16, 32, 64, 128}, conv_kernel 2..8, a
// cluster of at most 8 blocks); otherwise the caller runs the composition.
bool delta_decode_supports(int k_heads, int v_heads, int dk, int dv, int64_t conv_kernel);
void launch_delta_decode(const DeltaDecodeLaunch& p, cudaStream_t stream);
void launch_delta_decode_batch(const DeltaDecodeBatch& batch, cudaStream_t stream);

}  // namespace hearth::engine::cuda
