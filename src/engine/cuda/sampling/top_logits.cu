// The best k logits of a row (sampling.h). Each block keeps its candidates' keys in shared memory and
// takes k rounds of a block-wide maximum; the owner of each round's maximum clears it. Keys are unique
// (they carry the id), so the maximum identifies its element.
#include <cstring>

#include "engine/cuda/common/cuda_check.h"
#include "engine/cuda/common/launch.cuh"
#include "engine/cuda/sampling/sampling.h"

namespace hearth::engine::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kChunk = 4096;         // ids per first-pass block
constexpr int kMaxK = 64;
constexpr size_t kMaxSecondPassKeys = 4096;  // 32 KiB of shared memory

__device__ __forceinline__ uint64_t key_of(float x, int64_t id) {
  if (x != x) x = -__int_as_float(0x7f800000);  // NaN counts as -inf
  if (x == 0.0f) x = 0.0f;                       // -0 ties with +0, as on the host
  uint32_t u = __float_as_uint(x);
  u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
  return (static_cast<uint64_t>(u) << 32) | static_cast<uint32_t>(~static_cast<uint32_t>(id));
}

__device__ __forceinline__ uint64_t warp_max(uint64_t v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) {
    const uint64_t other = __shfl_xor_sync(0xffffffffu, v, offset);
    v = other > v ? other : v;
  }
  return v;
}

// k rounds over keys[0, count) in shared memory; out[round] = that round's maximum (0 once none is left).
__device__ void block_top_k(uint64_t* keys, int count, int k, uint64_t* out) {
  __shared__ uint64_t partial[kThreads / 32];
  __shared__ uint64_t best;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  for (int round = 0; round < k; ++round) {
    uint64_t local = 0;
    for (int i = tid; i < count; i += kThreads) local = keys[i] > local ? keys[i] : local;
    const uint64_t w = warp_max(local);
    if (lane == 0) partial[warp] = w;
    __syncthreads();
    if (warp == 0) {
      uint64_t v = lane < kThreads / 32 ? partial[lane] : 0;
      v = warp_max(v);
      if (lane == 0) best = v;
    }
    __syncthreads();
    const uint64_t m = best;
    if (tid == 0) out[round] = m;
    if (m != 0 && local == m) {
      for (int i = tid; i < count; i += kThreads) {
        if (keys[i] == m) keys[i] = 0;
      }
    }
    __syncthreads();
  }
}

// grid (chunks): the best k of ids [chunk·kChunk, (chunk+1)·kChunk) ∩ [0, limit) → workspace[chunk·k ...].
__global__ void __launch_bounds__(kThreads) kernel_top_logits_chunks(const float* logits, int64_t limit, int k, uint64_t* ws) {
  pdl_begin();
  __shared__ uint64_t keys[kChunk];
  const int64_t base = static_cast<int64_t>(blockIdx.x) * kChunk;
  for (int i = threadIdx.x; i < kChunk; i += kThreads) {
    const int64_t id = base + i;
    keys[i] = id < limit ? key_of(logits[id], id) : 0;
  }
  __syncthreads();
  block_top_k(keys, kChunk, k, ws + static_cast<size_t>(blockIdx.x) * k);
}

// One block: the best k of every chunk's k.
__global__ void __launch_bounds__(kThreads) kernel_top_logits_merge(const uint64_t* ws, int count, int k, uint64_t* out) {
  pdl_begin();
  extern __shared__ uint64_t merged[];
  for (int i = threadIdx.x; i < count; i += kThreads) merged[i] = ws[i];
  __syncthreads();
  block_top_k(merged, count, k, out);
}

int64_t chunks_of(int64_t limit) { return (limit + kChunk - 1) / kChunk; }

}  // namespace

bool top_logits_supports(int64_t limit, int k) {
  return limit >= 1 && k >= 1 && k <= kMaxK && static_cast<size_t>(chunks_of(limit) * k) <= kMaxSecondPassKeys;
}

size_t top_logits_workspace_words(int64_t limit, int k) { return static_cast<size_t>(chunks_of(limit) * k); }

void launch_top_logits(const TopLogitsLaunch& p, cudaStream_t stream) {
  const int64_t chunks = chunks_of(p.limit);
  launch_pdl(kernel_top_logits_chunks, dim3(static_cast<unsigned>(chunks)), dim3(kThreads), 0, stream, p.logits, p.limit, p.k,
             p.workspace);
  HEARTH_CUDA_LAUNCH_CHECK();
  const int count = static_cast<int>(chunks * p.k);
  launch_pdl(kernel_top_logits_merge, dim3(1), dim3(kThreads), static_cast<size_t>(count) * sizeof(uint64_t), stream,
             static_cast<const uint64_t*>(p.workspace), count, p.k, p.out);
  HEARTH_CUDA_LAUNCH_CHECK();
}

void decode_top_logit_key(uint64_t key, int32_t& id, float& logit) {
  const uint32_t ordered = static_cast<uint32_t>(key >> 32);
  const uint32_t bits = (ordered & 0x80000000u) ? (ordered & 0x7fffffffu) : ~ordered;
  std::memcpy(&logit, &bits, sizeof(logit));
  id = static_cast<int32_t>(~static_cast<uint32_t>(key));
}

}  // namespace hearth::engine::cuda
