#pragma once
// Launchers of the mixture-of-experts family: routing, the MoE product for any batch (launch_moe:
// decode kernels up to kMoeDecodeMaxTokens tokens, sorted grouped GEMMs beyond), and the fused decode
// block (launch_moe_decode_fused: routing, shared expert and residual add in three launches).
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "engine/cuda/common/types.h"

namespace hearth::engine::cuda {

enum class MoePrefillKernel { fast, general };

// Per-expert pointer tables of a WeightStack in device memory (built once per stack by CudaOps).
struct ExpertTable {
  WeightMatrix shape;  // format/shape of every expert (expert 0's pointers)
  Codec codec = Codec::generic;  // valid for every expert
  const uint8_t* const* data = nullptr;
  const uint8_t* const* scales = nullptr;
  const uint8_t* const* biases = nullptr;
  int64_t count = 0;
};

struct RouteLaunch {
  const float* logits = nullptr;
  int64_t logits_stride = 0;
  int64_t n = 0;
  int64_t experts = 0;
  int64_t top_k = 0;
  bool normalize = true;
  int32_t* indices = nullptr;
  float* weights = nullptr;
};
void launch_route(const RouteLaunch& p, cudaStream_t stream);

// Scratch the MoE launch needs, sized by moe_workspace_bytes().
struct MoeLaunch {
  ExpertTable gate, up, down;
  const float* x = nullptr;
  int64_t x_stride = 0;
  const int32_t* indices = nullptr;  // [n, top_k], device
  const float* weights = nullptr;    // [n, top_k], device
  int64_t n = 0;
  int64_t top_k = 0;
  float* out = nullptr;  // accumulated into
  int64_t out_stride = 0;
  void* workspace = nullptr;
  // Prefill (grouped GEMM) arithmetic: false = three bf16 MMAs per product (Precision::exact), true =
  // one (Precision::fast). The decode path is float32 either way.
  bool single_mma = false;
  // Prefill kernel with single_mma: `fast` = the tensor-core kernels of moe_gemm_fast.cu wherever they
  // apply (affine 4/8-bit experts), `general` = the general grouped GEMM always (the benchmark's
  // baseline, tests/engine/cuda_gemm_bench.cpp; set through CudaOptions::moe_prefill_kernel).
  MoePrefillKernel prefill_kernel = MoePrefillKernel::fast;
};
size_t moe_workspace_bytes(int64_t n, int64_t top_k, int64_t experts, int64_t inter);
// Up to kMoeDecodeMaxTokens tokens: fused decode kernels that read only the selected experts' rows.
// More: tokens sorted by expert on the device, then grouped GEMMs. Neither path returns to the host.
constexpr int64_t kMoeDecodeMaxTokens = 8;
constexpr int64_t kMoeMaxTopK = 16;
void launch_moe(const MoeLaunch& p, cudaStream_t stream);
void launch_moe_decode(const MoeLaunch& p, cudaStream_t stream);

// The whole MoE block of one decode step (1..kMoeDecodeMaxTokens tokens) in three launches, nothing
// returning to the host: routing (softmax, top-k, renormalise) is done from `router_logits` inside the
// gate/up kernel; the shared expert (when present) runs as a ninth expert in the same kernels, weighted
// by sigmoid(shared_gate_row · x̂); the result is ACCUMULATED into `out` (the residual stream):
//   out[t] += Σ_j w[t][j] · down_e(silu(gate_e(x̂_t)) · up_e(x̂_t))  [+ sigmoid(g·x̂_t) · shared(x̂_t)]
// with x̂ the staged input (StageInput: rms_norm with the post-attention norm). The router logits
// themselves come from a launch_matvec_jobs over the router matrix (same StageInput).
struct MoeDecodeLaunch {
  ExpertTable gate, up, down;
  StageInput x;
  const float* router_logits = nullptr;  // [n, experts]
  int64_t logits_stride = 0;
  int64_t top_k = 0;
  bool normalize = true;
  // Shared expert: all four null when the model has none.
  const WeightMatrix* shared_gate = nullptr;      // [inter_s, hidden]
  const WeightMatrix* shared_up = nullptr;        // [inter_s, hidden]
  const WeightMatrix* shared_down = nullptr;      // [hidden, inter_s]
  const WeightMatrix* shared_gate_row = nullptr;  // [1, hidden]
  int32_t* indices = nullptr;  // out [n, top_k]: the chosen experts (kept for tests and metrics)
  float* weights = nullptr;    // out [n, top_k]
  float* out = nullptr;        // accumulated into
  int64_t out_stride = 0;
  void* workspace = nullptr;   // moe_decode_workspace_bytes()
};
size_t moe_decode_workspace_bytes(int64_t n, int64_t top_k, int64_t inter, int64_t shared_inter);
void launch_moe_decode_fused(const MoeDecodeLaunch& p, cudaStream_t stream);

}  // namespace hearth::engine::cuda
