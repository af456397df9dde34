// The Gated DeltaNet decode step in one kernel (delta.h). The delta rule keeps delta_rule.cu's
// layout: the state stays in registers, thread (column j, part p) of a 128-thread block holds rows
// [p·Dk/4, (p+1)·Dk/4) of column j, a block owns 32 columns of one value head, and the reductions over
// Dk are two lane shuffles. Before it, each block makes its own conv outputs (q and k of its key head,
// v of its 32 columns) from the old conv state; after it, the RMS of the head's output is summed over
// the head's column blocks through distributed shared memory (the blocks of a key head form a cluster).
#include <cooperative_groups.h>

#include <string>

#include "engine/cuda/common/cuda_check.h"
#include "engine/cuda/common/device_weights.cuh"
#include "engine/cuda/common/launch.cuh"
#include "engine/cuda/delta/delta.h"
#include "engine/cuda/delta/delta_decode_layout.h"
#include "util/error.h"

namespace hearth::engine::cuda {
namespace {

namespace cg = cooperative_groups;

constexpr int kParts = 4;
constexpr int kColumnsPerBlock = 32;
constexpr int kThreads = kColumnsPerBlock * kParts;
constexpr float kNormEps = 1e-6f;  // the q/k L2 norms (ops.h DeltaRuleArgs)
constexpr int kMaxKernel = 8;
constexpr int kMaxCluster = 8;

__device__ __forceinline__ float sigmoid(float v) { return 1.0f / (1.0f + expf(-v)); }

// The causal conv of one channel for the new token from the old state; `window` gets the old state
// (oldest first) so that the caller can write the shifted state later.
__device__ __forceinline__ float conv_channel(const DeltaDecodeLaunch& p, int64_t channels, int64_t c,
                                              float (&window)[kMaxKernel]) {
  const int K = static_cast<int>(p.conv_kernel);
  float acc = 0.0f;
#pragma unroll
  for (int k = 0; k < kMaxKernel - 1; ++k) {
    if (k < K - 1) {
      window[k] = p.conv_state[k * channels + c];
      acc = fmaf(p.conv_weight[c * K + k], window[k], acc);
    }
  }
  acc = fmaf(p.conv_weight[c * K + K - 1], p.qkv[c], acc);
  return acc * sigmoid(acc);
}

__device__ __forceinline__ void write_conv_state(const DeltaDecodeLaunch& p, int64_t channels, int64_t c,
                                                 const float (&window)[kMaxKernel]) {
  const int K = static_cast<int>(p.conv_kernel);
#pragma unroll
  for (int k = 0; k < kMaxKernel - 1; ++k) {
    if (k < K - 2) p.conv_state[k * channels + c] = window[k + 1];
    else if (k == K - 2) p.conv_state[k * channels + c] = p.qkv[c];
  }
}

// grid (ratio · column_blocks, k_heads, sequences), clusters of (ratio · column_blocks, 1, 1), 128
// threads; blockIdx.z picks the sequence's pointers.
template <int DK>
__global__ void __launch_bounds__(kThreads) kernel_delta_decode(const DeltaDecodeBatch batch) {
  pdl_begin();  // launch.cuh: wait for the previous kernel before touching memory
  DeltaDecodeLaunch p = batch.shared;
  {
    const int e = blockIdx.z;
    p.qkv = batch.qkv[e], p.conv_state = batch.conv_state[e], p.z = batch.z[e], p.a = batch.a[e], p.b = batch.b[e];
    p.state = batch.state[e], p.out = batch.out[e];
  }
  constexpr int kRows = DK / kParts;
  constexpr int kPad = kRows + 1;
  __shared__ float ks[kParts * kPad];
  __shared__ float qs[kParts * kPad];
  __shared__ float norms[2];
  __shared__ float warp_partial[kThreads / 32];
  __shared__ float block_sum_sq;  // read by the other blocks of the head (distributed shared memory)
  cg::cluster_group cluster = cg::this_cluster();

  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  const int ratio = p.v_heads / p.k_heads;
  const int kh = blockIdx.y;
  const DeltaDecodeBlock where = delta_decode_block(blockIdx.x, p.dv);
  const int h = kh * ratio + where.value_in_key;
  const int col = where.column_block * kColumnsPerBlock + warp * 8 + (lane >> 2);
  const int part = lane & 3;
  const bool active = col < p.dv;
  const int64_t kd = static_cast<int64_t>(p.k_heads) * DK;
  const int64_t channels = 2 * kd + static_cast<int64_t>(p.v_heads) * p.dv;

  // 1. Conv outputs from the old conv state: q, k of key head kh (thread i < DK: channel i of each),
  //    v of this thread's column (the four parts compute the same value).
  float q_window[kMaxKernel], k_window[kMaxKernel], v_window[kMaxKernel];
  const int64_t q_channel = static_cast<int64_t>(kh) * DK + tid, k_channel = kd + q_channel;
  const int64_t v_channel = 2 * kd + static_cast<int64_t>(h) * p.dv + col;
  if (tid < DK) {
    const int slot = (tid / kRows) * kPad + tid % kRows;
    qs[slot] = conv_channel(p, channels, q_channel, q_window);
    ks[slot] = conv_channel(p, channels, k_channel, k_window);
  }
  const float vt = active ? conv_channel(p, channels, v_channel, v_window) : 0.0f;

  // 2. Gates of value head h.
  const float a = p.a[h] + p.dt_bias[h];
  const float softplus = a > 20.0f ? a : log1pf(expf(a));
  const float decay = expf(-expf(p.a_log[h]) * softplus);
  const float beta = sigmoid(p.b[h]);

  __syncthreads();
  if (warp == 0) {
    float sk = 0.0f, sq = 0.0f;
    for (int i = lane; i < DK; i += 32) {
      const int slot = (i / kRows) * kPad + i % kRows;
      sk = fmaf(ks[slot], ks[slot], sk);
      sq = fmaf(qs[slot], qs[slot], sq);
    }
    sk = warp_sum(sk);
    sq = warp_sum(sq);
    if (lane == 0) {
      norms[0] = rsqrtf(sk + kNormEps);
      norms[1] = rsqrtf(sq + kNormEps) * rsqrtf(static_cast<float>(DK));
    }
  }
  // Every block of the key head has read the old conv state: it may be rewritten now.
  cluster.sync();
  if (blockIdx.x == 0 && tid < DK) {  // the key head's q/k channels: one block writes them
    write_conv_state(p, channels, q_channel, q_window);
    write_conv_state(p, channels, k_channel, k_window);
  }
  if (active && part == 0) write_conv_state(p, channels, v_channel, v_window);  // owned by this block

  // 3. The delta rule for this token (delta_rule.cu's recurrence, n = 1).
  float* state = p.state + static_cast<int64_t>(h) * DK * p.dv;
  float S[kRows];
#pragma unroll
  for (int i = 0; i < kRows; ++i) S[i] = active ? state[static_cast<int64_t>(part * kRows + i) * p.dv + col] : 0.0f;
  const float inv_k = norms[0], inv_q = norms[1];
  const float* kp = ks + part * kPad;
  const float* qp = qs + part * kPad;
  float kv0 = 0.0f, kv1 = 0.0f;
#pragma unroll
  for (int i = 0; i < kRows; i += 2) {
    S[i] *= decay;
    S[i + 1] *= decay;
    kv0 = fmaf(S[i], kp[i], kv0);
    kv1 = fmaf(S[i + 1], kp[i + 1], kv1);
  }
  float kv = (kv0 + kv1) * inv_k;
  kv += __shfl_xor_sync(0xffffffffu, kv, 1);
  kv += __shfl_xor_sync(0xffffffffu, kv, 2);
  const float delta = beta * (vt - kv) * inv_k;
  float o0 = 0.0f, o1 = 0.0f;
#pragma unroll
  for (int i = 0; i < kRows; i += 2) {
    S[i] = fmaf(kp[i], delta, S[i]);
    S[i + 1] = fmaf(kp[i + 1], delta, S[i + 1]);
    o0 = fmaf(S[i], qp[i], o0);
    o1 = fmaf(S[i + 1], qp[i + 1], o1);
  }
  float o = (o0 + o1) * inv_q;
  o += __shfl_xor_sync(0xffffffffu, o, 1);
  o += __shfl_xor_sync(0xffffffffu, o, 2);
#pragma unroll
  for (int i = 0; i < kRows; ++i)
    if (active) state[static_cast<int64_t>(part * kRows + i) * p.dv + col] = S[i];

  // 4. Gated RMSNorm over the head's dv outputs: this block's sum of squares, then the head's sum over
  //    its column blocks (same order in every block, so they all use the same value).
  const float mine = (active && part == 0) ? o * o : 0.0f;
  const float ws = warp_sum(mine);
  if (lane == 0) warp_partial[warp] = ws;
  __syncthreads();
  if (tid == 0) {
    float s = 0.0f;
    for (int w = 0; w < kThreads / 32; ++w) s += warp_partial[w];
    block_sum_sq = s;
  }
  cluster.sync();
  const int column_blocks = delta_decode_column_blocks(p.dv);
  const int first = where.value_in_key * column_blocks;
  float total = 0.0f;
  for (int j = 0; j < column_blocks; ++j) total += *cluster.map_shared_rank(&block_sum_sq, first + j);
  const float inv = rsqrtf(total / static_cast<float>(p.dv) + p.eps);
  if (active && part == 0) {
    const int64_t i = static_cast<int64_t>(h) * p.dv + col;
    const float zv = p.z[i];
    p.out[i] = p.norm_weight[col] * (o * inv) * (zv * sigmoid(zv));
  }
  cluster.sync();  // no block leaves while another may still read its block_sum_sq
}

template <int DK>
void launch_for(const DeltaDecodeBatch& batch, cudaStream_t stream) {
  const DeltaDecodeLaunch& p = batch.shared;
  const int cluster = delta_decode_cluster_size(p.k_heads, p.v_heads, p.dv);
  cudaLaunchConfig_t config = {};
  config.gridDim = dim3(static_cast<unsigned>(cluster), static_cast<unsigned>(p.k_heads), static_cast<unsigned>(batch.count));
  config.blockDim = dim3(kThreads);
  config.stream = stream;
  cudaLaunchAttribute attributes[2];
  attributes[0].id = cudaLaunchAttributeClusterDimension;
  attributes[0].val.clusterDim.x = static_cast<unsigned>(cluster);
  attributes[0].val.clusterDim.y = 1;
  attributes[0].val.clusterDim.z = 1;
  attributes[1].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attributes[1].val.programmaticStreamSerializationAllowed = 1;
  config.attrs = attributes;
  config.numAttrs = 2;
  HEARTH_CUDA_CHECK(cudaLaunchKernelEx(&config, kernel_delta_decode<DK>, batch));
}

}  // namespace

bool delta_decode_supports(int k_heads, int v_heads, int dk, int dv, int64_t conv_kernel) {
  if (k_heads <= 0 || v_heads <= 0 || v_heads % k_heads != 0 || dv <= 0) return false;
  if (dk != 16 && dk != 32 && dk != 64 && dk != 128) return false;
  if (conv_kernel < 2 || conv_kernel > kMaxKernel) return false;
  return delta_decode_cluster_size(k_heads, v_heads, dv) <= kMaxCluster;
}

void launch_delta_decode(const DeltaDecodeLaunch& p, cudaStream_t stream) {
  DeltaDecodeBatch batch;
  batch.shared = p;
  batch.count = 1;
  batch.qkv[0] = p.qkv, batch.conv_state[0] = p.conv_state, batch.z[0] = p.z, batch.a[0] = p.a, batch.b[0] = p.b;
  batch.state[0] = p.state, batch.out[0] = p.out;
  launch_delta_decode_batch(batch, stream);
}

void launch_delta_decode_batch(const DeltaDecodeBatch& batch, cudaStream_t stream) {
  const DeltaDecodeLaunch& p = batch.shared;
  if (batch.count < 1 || batch.count > kDeltaDecodeMaxBatch)
    throw Error("CUDA delta decode: " + std::to_string(batch.count) + " sequences in one launch (1 to " +
                std::to_string(kDeltaDecodeMaxBatch) + ")");
  if (!delta_decode_supports(p.k_heads, p.v_heads, p.dk, p.dv, p.conv_kernel))
    throw Error("CUDA delta decode: sizes not covered (k_heads " + std::to_string(p.k_heads) + ", v_heads " +
                    std::to_string(p.v_heads) + ", dk " + std::to_string(p.dk) + ", dv " + std::to_string(p.dv) + ")",
                ErrorKind::unsupported);
  switch (p.dk) {
    case 16: launch_for<16>(batch, stream); break;
    case 32: launch_for<32>(batch, stream); break;
    case 64: launch_for<64>(batch, stream); break;
    default: launch_for<128>(batch, stream); break;
  }
  HEARTH_CUDA_LAUNCH_CHECK();
}

}  // namespace hearth::engine::cuda
