#pragma once
// Host launchers of the CUDA kernels, one per op (plus the pieces the fused MoE paths need). Each takes
// a plain parameter struct of device pointers and sizes and enqueues work on `stream`; none
// synchronises, so a whole decode step can be captured into a CUDA graph.
//
// Positions: kernels whose work depends on the sequence position (RoPE, attention, the KV-cache row an
// op writes) take `position` and an optional `dev_position` (int64 in device memory). When
// dev_position is set it wins, so a captured graph replays at whatever position the host stored there
// before the launch.
#include <cuda_runtime_api.h>

#include <cstdint>

#include "engine/cuda/dev_weight.h"
#include "engine/weight_formats.h"

namespace hearth::engine::cuda {

// Host view of a WeightMatrix for kernels, and the fastest decoder valid for it.
DevWeight to_dev_weight(const WeightMatrix& w);
Codec pick_codec(const WeightMatrix& w);
const char* codec_name(Codec c);

struct DeviceInfo {
  int sm_count = 0;
  size_t max_smem_per_block = 0;  // opt-in limit
};
const DeviceInfo& device_info();  // of the current device, read once

// ---- matmul: y (=|+=) x · Wᵀ ------------------------------------------------------------------------
struct MatmulLaunch {
  WeightMatrix w;  // device pointers
  const float* x = nullptr;
  int64_t x_stride = 0;
  float* y = nullptr;
  int64_t y_stride = 0;
  int64_t n = 0;  // rows of x
  bool accumulate = false;
  // Only launch_gemm_fast reads these: when set, the product's input is silu(x) · up (x the gate half),
  // formed while the activations are converted to bf16 — a dense MLP's down projection then needs no
  // SwiGLU kernel and no float32 round trip of its input.
  const float* swiglu_up = nullptr;
  int64_t up_stride = 0;
};
// Decode-sized batches (n <= kMatvecMaxTokens) run the matrix-vector kernel, larger ones the
// dequantising tensor-core GEMM.
constexpr int64_t kMatvecMaxTokens = 8;
void launch_matmul(const MatmulLaunch& p, cudaStream_t stream);
void launch_matvec(const MatmulLaunch& p, cudaStream_t stream);
void launch_gemm(const MatmulLaunch& p, cudaStream_t stream);

// ---- decode matrix-vector family (1..kMatvecMaxTokens tokens): fused launches -----------------------
// What a decode kernel does to its input vector while staging it in shared memory, so that the op
// producing it needs no kernel of its own:
//   none      x̂ = x
//   rms_norm  x̂ = x / sqrt(mean(x²) + eps) · norm_weight   (mean over all `cols`; every block recomputes it)
//   swiglu    x̂ = silu(x) · up                              (x is the gate half)
enum class StageTransform : int { none = 0, rms_norm = 1, swiglu = 2 };
struct StageInput {
  const float* x = nullptr;
  int64_t x_stride = 0;
  int64_t cols = 0;
  int64_t n = 0;  // tokens, 1..kMatvecMaxTokens
  StageTransform transform = StageTransform::none;
  const float* norm_weight = nullptr;  // rms_norm: [cols]
  float eps = 1e-6f;
  const float* up = nullptr;  // swiglu: [n, cols]
  int64_t up_stride = 0;
};
// One matrix of a fused launch: y (=|+=) x̂ · Wᵀ. Accumulating into the residual stream is how a
// projection's residual add is fused (each y element is written by exactly one thread: deterministic).
struct MatvecJob {
  WeightMatrix w;  // device pointers; w.cols == StageInput::cols
  float* y = nullptr;
  int64_t y_stride = 0;
  bool accumulate = false;
};
constexpr int kMaxMatvecJobs = 8;
// Every job in ONE kernel launch (e.g. the four Gated DeltaNet input projections, or q/k/v), all
// reading the same transformed input. jobs.size() in [1, kMaxMatvecJobs].
void launch_matvec_jobs(const StageInput& in, const MatvecJob* jobs, int job_count, cudaStream_t stream);

// ---- MoE ----------------------------------------------------------------------------------------------
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

// ---- attention ----------------------------------------------------------------------------------------
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

// ---- Gated DeltaNet ----------------------------------------------------------------------------------
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

struct Conv1dLaunch {
  const float* x = nullptr;
  int64_t x_stride = 0;
  float* state = nullptr;
  const float* weight = nullptr;
  float* out = nullptr;
  int64_t out_stride = 0;
  int64_t n = 0, channels = 0, kernel = 4;
  bool silu = true;
};
void launch_conv1d(const Conv1dLaunch& p, cudaStream_t stream);

struct DeltaGatesLaunch {
  const float *a = nullptr, *b = nullptr;
  int64_t a_stride = 0, b_stride = 0;
  const float *a_log = nullptr, *dt_bias = nullptr;
  float *g = nullptr, *beta = nullptr;
  int64_t g_stride = 0, beta_stride = 0;
  int64_t n = 0, heads = 0;
};
void launch_delta_gates(const DeltaGatesLaunch& p, cudaStream_t stream);

// ---- small ops -----------------------------------------------------------------------------------------
// A strided float matrix view (mirrors engine::Tensor without depending on ops.h).
struct View {
  float* data = nullptr;
  int64_t rows = 0, cols = 0, stride = 0;
};

void launch_rms_norm(View x, View out, const float* weight, int64_t dim, float eps, cudaStream_t stream);
void launch_gated_rms_norm(View x, View z, const float* weight, int64_t dim, float eps, cudaStream_t stream);
void launch_rope(View x, int64_t heads, int64_t head_dim, int64_t rotary_dim, int64_t first_position,
                 const int64_t* dev_position, float theta, cudaStream_t stream);
void launch_split_query_gate(View qg, int64_t heads, int64_t head_dim, View query, View gate, cudaStream_t stream);
void launch_sigmoid_mul(View x, View gate, cudaStream_t stream);
void launch_swiglu(View gate, View up, View out, cudaStream_t stream);
void launch_add(View x, View y, View row_gate, cudaStream_t stream);
void launch_copy(View src, View dst, cudaStream_t stream);
// Copies src (rows × cols) into dst rows [position, position + rows), position read from dev_position
// when given (the KV-cache append of a captured decode step).
void launch_copy_at_position(View src, float* dst, int64_t dst_stride, int64_t position,
                             const int64_t* dev_position, cudaStream_t stream);
void launch_embed(const WeightMatrix& table, const int32_t* dev_tokens, int64_t n, View out, cudaStream_t stream);

// ---- utilities -----------------------------------------------------------------------------------------
// Fills `bytes` of device memory with pseudo-random bits from (seed, byte offset): dummy weights are
// generated on the GPU, never on the host.
void launch_fill_random_bits(void* dst, size_t bytes, uint64_t seed, cudaStream_t stream);
// Fills `count` scale (or bias) elements of `dtype` with random values in [lo, hi).
void launch_fill_random_floats(void* dst, int64_t count, DType dtype, float lo, float hi, uint64_t seed,
                               cudaStream_t stream);
// Fills `count` uint8 scales with codes drawn from [lo, hi] (E8M0 or E4M3 codes chosen by the caller).
void launch_fill_random_codes(uint8_t* dst, int64_t count, int lo, int hi, uint64_t seed, cudaStream_t stream);
// Writes `value` into every float of dst (tests poison outputs with NaN).
void launch_fill_floats(float* dst, int64_t count, float value, cudaStream_t stream);
// Index of the largest value of x (first on ties) into *out: greedy decoding without copying logits.
void launch_argmax(const float* x, int64_t count, int32_t* out, cudaStream_t stream);

}  // namespace hearth::engine::cuda
