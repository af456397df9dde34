#pragma once
// The engine's op set: ONE declaration per op, implemented by every backend with the same signature
// (shared/DESIGN.md: "One op, one declaration"). The CPU backend (engine/cpu/cpu_ops.h) is the
// reference; a CUDA backend implements the same `Ops` interface, and tests run both on the same random
// inputs through these argument structs and compare.
//
// Conventions, for every op:
//  - Activations are float32 row-major 2-D views (`Tensor`): row i is token i of the batch being run.
//  - All pointers (tensors, weights, state, index arrays) live in the backend's memory; a backend's
//    alloc()/upload()/download() move data there. Token ids in EmbedArgs are host memory.
//  - Weights are read in their stored format (weight_formats.h): kernels decode while they read.
//  - An op never allocates the caller's outputs; `out` tensors are given with the right shape.
//  - Ops may run asynchronously on a device; download() and synchronize() order them with the host.
// The model code (qwen35_model.cpp) decides which op runs when; it never touches tensor data itself.
#include <cstddef>
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model.h"
#include "engine/weight_formats.h"
#include "util/error.h"

namespace hearth::engine {

class PageMemory;  // engine/page_memory.h

// A row-major float32 view: rows × cols, `stride` floats between row starts (>= cols).
struct Tensor {
  float* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t stride = 0;

  float* row(int64_t r) const { return data + r * stride; }
  // Rows [begin, begin + count).
  Tensor rows_slice(int64_t begin, int64_t count) const { return {row(begin), count, cols, stride}; }
  // Columns [begin, begin + count) of every row.
  Tensor cols_slice(int64_t begin, int64_t count) const { return {data + begin, rows, count, stride}; }
  static Tensor contiguous(float* data, int64_t rows, int64_t cols) { return {data, rows, cols, cols}; }
};

// ---- argument structs: one per op ----------------------------------------------------------------

// out[i] = row tokens[i] of `table` (any weight format), decoded to float.
struct EmbedArgs {
  const WeightMatrix* table = nullptr;  // [vocab, hidden]
  std::span<const Token> tokens;        // host memory
  Tensor out;                           // [tokens.size(), hidden]
};

// y = x · Wᵀ (y[i][o] = Σ_j x[i][j] · W[o][j]), or y += x · Wᵀ when `accumulate`.
struct MatmulArgs {
  const WeightMatrix* weight = nullptr;  // [out, in]
  Tensor x;                              // [n, in]
  Tensor y;                              // [n, out]
  bool accumulate = false;
};

// RMSNorm over groups of `dim` consecutive columns: out = x / sqrt(mean(x²) + eps) · weight.
// Zero-centred checkpoints (HF Qwen3.5: x̂·(1+w)) are folded at load time into weight = 1 + w, so the
// op always multiplies by `weight` as given. `out` may alias `x`.
struct RmsNormArgs {
  Tensor x;
  Tensor out;
  const float* weight = nullptr;  // [dim]
  int64_t dim = 0;                // cols must be a multiple of dim (per-head norms use dim = head_dim)
  float eps = 1e-6f;
};

// Rotary position embedding, NeoX / rotate-half style, on the first `rotary_dim` dims of every head;
// row i is at position first_position + i. In place.
struct RopeArgs {
  Tensor x;  // [n, heads · head_dim]
  int64_t heads = 0;
  int64_t head_dim = 0;
  int64_t rotary_dim = 0;
  int64_t first_position = 0;
  float theta = 10000.0f;
  // When set, the position is read from this int64 in backend memory when the op runs (instead of
  // first_position), so that a recorded decode step (see Ops::begin_recording) replays at any position.
  const int64_t* position_ptr = nullptr;
};

// Causal grouped-query attention of `q` rows (positions first_position ..) over the cache rows
// [0, first_position + q.rows). The new tokens' k/v must already be in the cache. Query head h reads
// KV head h / (heads / kv_heads).
struct AttentionArgs {
  Tensor q;        // [n, heads · head_dim]
  Tensor k_cache;  // [capacity, kv_heads · head_dim]
  Tensor v_cache;  // [capacity, kv_heads · head_dim]
  int64_t first_position = 0;
  int64_t heads = 0;
  int64_t kv_heads = 0;
  int64_t head_dim = 0;
  float scale = 1.0f;
  Tensor out;  // [n, heads · head_dim]
  const int64_t* position_ptr = nullptr;  // as in RopeArgs: overrides first_position when set
};

// Depthwise causal conv1d with kernel K over channels, continuing from `state` (the previous K-1
// inputs, oldest first, zeros at the start of a sequence); then the state holds the last K-1 inputs.
struct Conv1dArgs {
  Tensor x;                      // [n, channels]
  float* state = nullptr;        // [(K-1), channels]
  const float* weight = nullptr; // [channels, K] (tap K-1 multiplies the newest input)
  int64_t kernel = 4;
  bool silu = true;              // apply SiLU to the output
  Tensor out;                    // [n, channels]; must not alias x
};

// Gated DeltaNet gates: beta = sigmoid(b); g = -exp(A_log) · softplus(a + dt_bias) (log decay).
struct DeltaGatesArgs {
  Tensor a;  // [n, v_heads]
  Tensor b;  // [n, v_heads]
  const float* a_log = nullptr;    // [v_heads]
  const float* dt_bias = nullptr;  // [v_heads]
  Tensor g;     // out [n, v_heads]
  Tensor beta;  // out [n, v_heads]
};

enum class DeltaRuleMode { recurrent, chunked };

// The gated delta rule over n tokens, continuing `state` (per value head a Dk × Dv float matrix).
// q and k are L2-normalised (eps 1e-6) inside, q scaled by Dk^-0.5. Value head h uses key head
// h / (v_heads / k_heads). Per token: S *= exp(g); S += k (beta (v - Sᵀk))ᵀ; o = Sᵀq.
// `chunked` computes the same thing in blocks of `chunk` tokens (the prefill form); both modes leave
// the same state up to rounding.
struct DeltaRuleArgs {
  Tensor q;     // [n, k_heads · dk]
  Tensor k;     // [n, k_heads · dk]
  Tensor v;     // [n, v_heads · dv]
  Tensor g;     // [n, v_heads]
  Tensor beta;  // [n, v_heads]
  float* state = nullptr;  // [v_heads, dk, dv]
  int64_t k_heads = 0;
  int64_t v_heads = 0;
  int64_t dk = 0;
  int64_t dv = 0;
  DeltaRuleMode mode = DeltaRuleMode::recurrent;
  int64_t chunk = 64;
  Tensor out;  // [n, v_heads · dv]
};

// Per group of `dim` columns: x = weight · rmsnorm(x) · silu(z). In place on x.
struct GatedRmsNormArgs {
  Tensor x;  // [n, groups · dim]
  Tensor z;  // same shape
  const float* weight = nullptr;  // [dim]
  int64_t dim = 0;
  float eps = 1e-6f;
};

// Splits a gated query projection laid out per head as [query(head_dim) | gate(head_dim)].
struct SplitQueryGateArgs {
  Tensor query_gate;  // [n, heads · 2 · head_dim]
  int64_t heads = 0;
  int64_t head_dim = 0;
  Tensor query;  // out [n, heads · head_dim]
  Tensor gate;   // out [n, heads · head_dim]
};

// x *= sigmoid(gate), elementwise. In place.
struct SigmoidMulArgs {
  Tensor x;
  Tensor gate;  // same shape as x
};

// out = silu(gate) · up, elementwise. `out` may alias gate.
struct SwiGluArgs {
  Tensor gate;
  Tensor up;
  Tensor out;
};

// x += y, or x += sigmoid(gate[i]) · y[i] per row when `row_gate` is given ([n, 1]: the MoE shared
// expert's gate).
struct AddArgs {
  Tensor x;
  Tensor y;
  Tensor row_gate;  // optional: data == nullptr means plain add
};

// MoE routing: softmax over expert logits, top-k, optionally renormalised to sum 1.
struct RouterArgs {
  Tensor logits;  // [n, experts]
  int64_t top_k = 0;
  bool normalize = true;
  int32_t* indices = nullptr;  // out [n, top_k], best first
  float* weights = nullptr;    // out [n, top_k]
};

// Routed experts: out[i] += Σ_j weights[i][j] · down_e(silu(gate_e(x_i)) · up_e(x_i)), e = indices[i][j].
struct MoeArgs {
  Tensor x;  // [n, hidden]
  const WeightStack* gate = nullptr;  // count = experts, each [inter, hidden]
  const WeightStack* up = nullptr;    // each [inter, hidden]
  const WeightStack* down = nullptr;  // each [hidden, inter]
  const int32_t* indices = nullptr;   // [n, top_k]
  const float* weights = nullptr;     // [n, top_k]
  int64_t top_k = 0;
  Tensor out;  // [n, hidden], accumulated into
};

// dst = src (same shape).
struct CopyArgs {
  Tensor src;
  Tensor dst;
};

// dst rows [position, position + src.rows) = src (the KV-cache append).
struct WriteRowsArgs {
  Tensor src;
  Tensor dst;
  int64_t position = 0;
  const int64_t* position_ptr = nullptr;  // as in RopeArgs: overrides position when set
};

// ---- fused ops: several of the ops above as one call ----------------------------------------------
// Each has a default implementation in Ops (engine/fused_ops.cpp) that runs the ops above in the order
// the unfused model code runs them, so the CPU reference gets them for free and its results do not
// change; a device backend overrides them with one (or a few) kernels. Args carry every scratch tensor
// the composition needs (ops never allocate).

// What matmul_jobs does to x before the products:
//   none      x̂ = x
//   rms_norm  x̂ = rmsnorm(x) · norm_weight over all cols (e.g. a layer's input norm)
//   swiglu    x̂ = silu(x) · up (x is the gate half of an MLP)
enum class InputTransform { none, rms_norm, swiglu };

// One product of matmul_jobs: y (=|+=) x̂ · Wᵀ. Accumulating into the residual stream is how a
// projection's residual add is fused away.
struct MatmulJob {
  const WeightMatrix* weight = nullptr;  // [out, cols]
  Tensor y;                              // [n, out]
  bool accumulate = false;
};
constexpr int kMaxMatmulJobs = 8;

// Every job reads the same transformed input x̂.
struct MatmulJobsArgs {
  Tensor x;  // [n, cols]
  InputTransform transform = InputTransform::none;
  const float* norm_weight = nullptr;  // rms_norm: [cols]
  float eps = 1e-6f;
  Tensor up;       // swiglu: same shape as x
  Tensor scratch;  // [n, cols]: x̂ where the backend materialises it (transform != none); may alias x
  std::array<MatmulJob, kMaxMatmulJobs> jobs{};
  int job_count = 0;  // 1..kMaxMatmulJobs
};

// A whole MoE feed-forward block, added into the residual stream:
//   x̂ = rmsnorm(x) · norm_weight; route(router · x̂); x += Σ_j w_j · expert_j(x̂) [+ sigmoid(g · x̂) · shared(x̂)]
struct MoeBlockArgs {
  Tensor x;  // [n, hidden]: the residual stream, accumulated into
  const float* norm_weight = nullptr;  // [hidden]: the post-attention norm
  float eps = 1e-6f;
  const WeightMatrix* router = nullptr;  // [experts, hidden]
  const WeightStack* gate = nullptr;
  const WeightStack* up = nullptr;
  const WeightStack* down = nullptr;
  int64_t top_k = 0;
  bool normalize = true;
  // The shared expert: all four null when the model has none.
  const WeightMatrix* shared_gate = nullptr;      // [inter_s, hidden]
  const WeightMatrix* shared_up = nullptr;        // [inter_s, hidden]
  const WeightMatrix* shared_down = nullptr;      // [hidden, inter_s]
  const WeightMatrix* shared_gate_row = nullptr;  // [1, hidden]
  int32_t* indices = nullptr;  // out [n, top_k]
  float* weights = nullptr;    // out [n, top_k]
  // Scratch.
  Tensor normed;       // [n, hidden]
  Tensor logits;       // [n, experts]
  Tensor moe_out;      // [n, hidden]
  Tensor shared_out;   // [n, hidden]   (shared expert only)
  Tensor shared_gate_act;  // [n, inter_s]  (shared expert only)
  Tensor shared_up_act;    // [n, inter_s]  (shared expert only)
  Tensor row_gate;     // [n, 1]        (shared expert only)
};

// The Gated DeltaNet mixer between its input projections and its output projection:
// conv1d(qkv) + SiLU (state updated) → gates from a, b → delta rule (state updated) → gated RMSNorm by z.
struct DeltaStepArgs {
  Tensor qkv;  // [n, 2·k_heads·dk + v_heads·dv]: the conv input, laid out [q | k | v]
  Tensor z;    // [n, v_heads · dv]
  Tensor a;    // [n, v_heads]
  Tensor b;    // [n, v_heads]
  float* conv_state = nullptr;         // [(conv_kernel-1), channels]
  const float* conv_weight = nullptr;  // [channels, conv_kernel]
  int64_t conv_kernel = 4;
  const float* a_log = nullptr;    // [v_heads]
  const float* dt_bias = nullptr;  // [v_heads]
  float* state = nullptr;          // [v_heads, dk, dv]
  int64_t k_heads = 0, v_heads = 0, dk = 0, dv = 0;
  const float* norm_weight = nullptr;  // [dv]
  float eps = 1e-6f;
  DeltaRuleMode mode = DeltaRuleMode::recurrent;
  int64_t chunk = 64;
  Tensor mixed;  // scratch [n, channels]: the conv output
  Tensor g;      // scratch [n, v_heads]
  Tensor beta;   // scratch [n, v_heads]
  Tensor out;    // [n, v_heads · dv]: the normed, gated core output
};

// A full-attention layer between its q/k/v projections and attention: split query and gate (gated
// models), per-head RMSNorm of q and k, RoPE on both, k and v appended to the cache rows at the position.
struct AttentionPrepArgs {
  Tensor q_proj;  // [n, heads · head_dim · (gated ? 2 : 1)]; per head [query | gate] when gated
  bool gated = false;
  Tensor k;  // [n, kv_heads · head_dim]: normed and rotated in place
  Tensor v;  // [n, kv_heads · head_dim]
  const float* q_norm = nullptr;  // [head_dim]
  const float* k_norm = nullptr;  // [head_dim]
  float eps = 1e-6f;
  int64_t heads = 0, kv_heads = 0, head_dim = 0, rotary_dim = 0;
  float theta = 10000.0f;
  int64_t first_position = 0;
  const int64_t* position_ptr = nullptr;  // as in RopeArgs
  Tensor k_cache;  // [capacity, kv_heads · head_dim]
  Tensor v_cache;
  Tensor q;     // out [n, heads · head_dim] (may alias q_proj when not gated)
  Tensor gate;  // out [n, heads · head_dim] when gated
};

// The best min(k, limit) entries of one logits row in the backend's memory, best first in
// logit_before order (engine/top_logits.h: NaN as -inf, the lower id on ties); ids >= limit never
// appear. The result is host memory: only k pairs come back, not the row.
struct TopLogitsArgs {
  const float* logits = nullptr;  // [row_length]
  int64_t row_length = 0;
  int64_t limit = 0;              // ids [0, limit) compete (<= row_length)
  int32_t k = 1;                  // 1..kMaxTopLogits
  std::vector<TokenLogit>* out = nullptr;
};

// A recorded sequence of ops (a CUDA graph), replayed with the same pointers; what changes between
// replays is read from backend memory (the position_ptr fields).
class RecordedOps {
 public:
  virtual ~RecordedOps() = default;
  virtual void replay() = 0;
};

// ---- the backend interface -------------------------------------------------------------------------
class Ops {
 public:
  virtual ~Ops() = default;
  virtual std::string_view name() const = 0;

  // Memory in the backend's space. alloc() returns zeroed memory aligned to at least 64 bytes.
  virtual void* alloc(size_t bytes) = 0;
  virtual void release(void* ptr) = 0;
  virtual void upload(void* dst, const void* host_src, size_t bytes) = 0;
  virtual void download(void* host_dst, const void* src, size_t bytes) = 0;
  virtual void copy(void* dst, const void* src, size_t bytes) = 0;
  virtual void zero(void* dst, size_t bytes) = 0;
  virtual void synchronize() {}
  // True when alloc() returns host memory (the CPU backend): copies of state are then kept as plain host
  // memory; a device backend returns false, and state snapshots stay in its memory (qwen35_state.h).
  virtual bool memory_is_host() const { return true; }
  // Makes a host-side weight (e.g. memory-mapped from a file) usable by this backend. The CPU backend
  // returns it unchanged; a device backend copies it to device memory it keeps for its lifetime.
  virtual WeightMatrix place_weight(const WeightMatrix& host) = 0;
  // Physical pages mappable into reserved address ranges, in this backend's memory: the KV page pool
  // (engine/kv_pages.h) is built on one. Copies between such pages go through copy() above.
  virtual std::unique_ptr<PageMemory> make_page_memory() = 0;

  virtual void embed(const EmbedArgs& args) = 0;
  virtual void matmul(const MatmulArgs& args) = 0;
  virtual void rms_norm(const RmsNormArgs& args) = 0;
  virtual void rope(const RopeArgs& args) = 0;
  virtual void attention(const AttentionArgs& args) = 0;
  virtual void conv1d(const Conv1dArgs& args) = 0;
  virtual void delta_gates(const DeltaGatesArgs& args) = 0;
  virtual void delta_rule(const DeltaRuleArgs& args) = 0;
  virtual void gated_rms_norm(const GatedRmsNormArgs& args) = 0;
  virtual void split_query_gate(const SplitQueryGateArgs& args) = 0;
  virtual void sigmoid_mul(const SigmoidMulArgs& args) = 0;
  virtual void swiglu(const SwiGluArgs& args) = 0;
  virtual void add(const AddArgs& args) = 0;
  virtual void route(const RouterArgs& args) = 0;
  virtual void moe(const MoeArgs& args) = 0;
  virtual void copy_tensor(const CopyArgs& args) = 0;

  // Has a default (through download + copy_tensor) so that every backend supports it.
  virtual void write_rows(const WriteRowsArgs& args) {
    int64_t position = args.position;
    if (args.position_ptr) download(&position, args.position_ptr, sizeof(position));
    copy_tensor({args.src, args.dst.rows_slice(position, args.src.rows)});
  }

  // Default: the row is downloaded and selected on the host (engine/fused_ops.cpp).
  virtual void top_logits(const TopLogitsArgs& args);

  // Fused ops (see above): defaults compose the ops above (engine/fused_ops.cpp).
  virtual void matmul_jobs(const MatmulJobsArgs& args);
  virtual void moe_block(const MoeBlockArgs& args);
  virtual void delta_step(const DeltaStepArgs& args);
  // Several sequences' steps of one layer (the same weights, each its own state and rows): continuous
  // batching's decode step. Default: one delta_step after another; a device backend runs the one-token
  // steps together.
  virtual void delta_steps(std::span<const DeltaStepArgs> steps);
  virtual void attention_prep(const AttentionPrepArgs& args);

  // Recording: between begin_recording() and end_recording() ops are recorded instead of run, then
  // replayed as one unit (a decode step without per-op launch costs or host synchronisation). Only
  // ops without host-memory inputs may be recorded (not embed, upload or download). Backends that
  // cannot record return false from can_record().
  virtual bool can_record() const { return false; }
  virtual void begin_recording() { throw Error(std::string(name()) + ": recording ops is not supported", ErrorKind::unsupported); }
  virtual std::unique_ptr<RecordedOps> end_recording() {
    throw Error(std::string(name()) + ": recording ops is not supported", ErrorKind::unsupported);
  }
};

}  // namespace hearth::engine
