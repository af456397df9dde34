#pragma once
// Precision::fast grouped MoE GEMMs for affine 4/8-bit experts with bf16 scales and biases (MLX's
// quantised layout, what the MoE checkpoints ship), at tensor-core speed: the activations are converted
// to bf16 once per call, then
//   1. one kernel computes gate and up of each tile together (mma.sync bf16, ldmatrix fragments, A by
//      cp.async and W decoded from its packed codes, both double buffered) and writes
//      h = silu(gate) · up in bf16;
//   2. one kernel multiplies h by down and adds weight · result onto each token's output row with
//      atomic adds (as the general kernel does).
// Everything else (other formats, exact mode, shapes not a multiple of 64) keeps kernel_gemm.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "engine/cuda/moe/moe.h"

namespace hearth::engine::cuda {

// The sorted pairs and tile table made by the sort kernel (moe_prefill.cu).
struct MoeFastLaunch {
  const MoeLaunch* moe = nullptr;
  const int32_t* tile_expert = nullptr;  // [max_tiles], -1: no tile
  const int32_t* tile_row0 = nullptr;    // [max_tiles]
  const int32_t* expert_end = nullptr;   // [experts]
  const int32_t* pair_token = nullptr;   // [pairs] token of sorted row i
  const float* pair_weight = nullptr;    // [pairs] routing weight of sorted row i
  int64_t pairs = 0, max_tiles = 0;
  void* scratch = nullptr;  // 256-byte aligned, moe_fast_scratch_bytes()
};

// Scratch for the bf16 activations and the bf16 SwiGLU result.
size_t moe_fast_scratch_bytes(int64_t n, int64_t pairs, int64_t hidden, int64_t inter);

// Whether the fast kernels handle these experts (formats, shapes, precision).
bool moe_fast_applies(const MoeLaunch& p);

void launch_moe_fast(const MoeFastLaunch& f, cudaStream_t stream);

}  // namespace hearth::engine::cuda
