// Up-front GPU memory planning: a model that cannot fit with its whole context is refused before any
// weight is copied, with the parts named, instead of failing half-way through loading or on a long
// prompt.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdio>

#include "engine/cuda/attention/attention.h"
#include "engine/cuda/common/cuda_check.h"
#include "engine/cuda/cuda_backend.h"
#include "engine/cuda/cuda_ops.h"
#include "engine/cuda/delta/delta.h"
#include "engine/cuda/gemm/gemm.h"
#include "engine/cuda/moe/moe.h"

namespace hearth::engine::cuda {

namespace {

size_t matrix_bytes(const WeightMatrix& m) {
  if (m.rows == 0 || m.cols == 0) return 0;
  const auto round = [](size_t b) { return (b + 255) / 256 * 256; };
  size_t bytes = round(m.data_bytes());
  if (m.quantized()) bytes += round(m.scales_row_bytes() * static_cast<size_t>(m.rows)) * (m.biases ? 2 : 1);
  return bytes;
}

std::string gib(size_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0));
  return buf;
}

}  // namespace

std::string MemoryPlan::describe() const {
  return "weights " + gib(weights) + " + KV cache " + gib(kv_cache) + " + linear-attention state " + gib(linear_state) +
         " + activations " + gib(activations) + " + kernel workspace " + gib(workspace) + " + reserve " + gib(reserve) +
         " = " + gib(total());
}

MemoryPlan plan_memory(const ModelConfig& c, const ModelWeights& w, int64_t max_context, int64_t max_chunk,
                       Precision precision) {
  MemoryPlan p;
  p.weights += matrix_bytes(w.embed) + matrix_bytes(w.lm_head);
  for (const LayerWeights& l : w.layers) {
    for (const WeightMatrix* m : {&l.attn.q, &l.attn.k, &l.attn.v, &l.attn.o, &l.linear.qkv, &l.linear.z, &l.linear.b,
                                  &l.linear.a, &l.linear.out, &l.mlp.gate, &l.mlp.up, &l.mlp.down, &l.moe.router,
                                  &l.moe.shared.gate, &l.moe.shared.up, &l.moe.shared.down, &l.moe.shared_gate})
      p.weights += matrix_bytes(*m);
    for (const WeightStack* s : {&l.moe.gate, &l.moe.up, &l.moe.down})
      for (const WeightMatrix& m : s->experts) p.weights += matrix_bytes(m);
  }
  const size_t f = sizeof(float);
  const auto ctx = static_cast<size_t>(max_context), T = static_cast<size_t>(max_chunk);
  p.kv_cache = 2 * static_cast<size_t>(c.num_full_layers()) * ctx * static_cast<size_t>(c.num_kv_heads * c.head_dim) * f;
  p.linear_state = static_cast<size_t>(c.num_linear_layers()) *
                   static_cast<size_t>((c.conv_kernel - 1) * c.linear_conv_channels() +
                                       c.linear_v_heads * c.linear_k_dim * c.linear_v_dim) * f;
  const int64_t wide = std::max({c.hidden_size, c.num_heads * c.head_dim * 2, c.linear_conv_channels(),
                                 c.linear_v_heads * c.linear_v_dim, c.intermediate_size, c.moe_intermediate_size,
                                 c.shared_expert_intermediate_size, c.num_experts});
  p.activations = T * static_cast<size_t>(6 * c.hidden_size + 6 * wide + 8 * std::max<int64_t>(1, c.linear_v_heads) + 32) * f +
                  static_cast<size_t>(c.vocab_size) * f;
  size_t ws = attention_workspace_bytes(static_cast<int>(std::max<int64_t>(1, c.num_heads)),
                                        static_cast<int>(std::max<int64_t>(32, c.head_dim)), max_context);
  if (c.num_experts > 0)
    ws = std::max(ws, moe_workspace_bytes(max_chunk, c.experts_per_token, c.num_experts, c.moe_intermediate_size));
  if (c.num_linear_layers() > 0 && max_chunk >= kDeltaChunkedMinTokens)
    ws = std::max(ws, delta_chunked_workspace_bytes(max_chunk, static_cast<int>(c.linear_v_heads)));
  if (precision == Precision::fast && max_chunk > kMatvecMaxTokens) {
    // The fast prefill GEMM's scratch: cuBLAS's workspace, the chunk's activations as bf16 and the
    // largest plain matrix as bf16 (bounded by kMaxBf16WeightScratchBytes). Expert matrices run the
    // grouped kernel, and the LM head only ever sees one row.
    for (const LayerWeights& l : w.layers)
      for (const WeightMatrix* m : {&l.attn.q, &l.attn.k, &l.attn.v, &l.attn.o, &l.linear.qkv, &l.linear.z, &l.linear.b,
                                    &l.linear.a, &l.linear.out, &l.mlp.gate, &l.mlp.up, &l.mlp.down, &l.moe.router,
                                    &l.moe.shared.gate, &l.moe.shared.up, &l.moe.shared.down, &l.moe.shared_gate})
        if (m->rows > 0 && m->cols > 0) ws = std::max(ws, fast_gemm_workspace_bytes(m->rows, m->cols, max_chunk));
  }
  if (precision == Precision::fast && max_chunk > kAttentionDecodeMaxQueries && c.num_full_layers() > 0 &&
      c.num_kv_heads > 0) {
    // The fast prefill attention's scores, weights and bf16 values (attention_cublas_plan.h): largest for a
    // whole chunk at the end of the context.
    const int64_t n = std::min(max_chunk, max_context);
    ws = std::max(ws, cublas_attention_workspace_bytes(static_cast<int>(c.num_heads), static_cast<int>(c.num_kv_heads),
                                                       static_cast<int>(c.head_dim), n, max_context - n));
  }
  p.workspace = 2 * ws;  // grow-only workspace: an outgrown buffer stays allocated
  p.reserve = size_t{512} << 20;
  return p;
}

namespace {
// The plan with the model's sequence slots: the KV page pool holds slots + 1 contexts
// (qwen35_model.cpp), and each slot has its linear state.
MemoryPlan plan_with_slots(const ModelConfig& config, const ModelWeights& weights, const CudaBackendOptions& options) {
  MemoryPlan plan = plan_memory(config, weights, options.max_context, options.max_chunk, options.precision);
  plan.kv_cache *= static_cast<size_t>(options.slots) + 1;
  plan.linear_state *= static_cast<size_t>(options.slots);
  return plan;
}
}  // namespace

int64_t largest_fitting_context(const ModelConfig& config, const ModelWeights& weights, CudaBackendOptions options,
                                int64_t wanted) {
  if (!device_available()) throw Error("--device cuda: no CUDA device is available", ErrorKind::unsupported);
  size_t free_b = 0, total_b = 0;
  HEARTH_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
  auto fits = [&](int64_t context) {
    options.max_context = context;
    return plan_with_slots(config, weights, options).total() <= free_b;
  };
  int64_t low = 0, high = wanted / 1024;  // in units of 1024 positions: low fits (or is 0), high may not
  if (high > 0 && fits(high * 1024)) return high * 1024;
  while (high - low > 1) {
    const int64_t mid = (low + high) / 2;
    (fits(mid * 1024) ? low : high) = mid;
  }
  return low * 1024;
}

std::unique_ptr<Ops> make_cuda_backend(const ModelConfig& config, const ModelWeights& weights,
                                       const CudaBackendOptions& options) {
  if (!device_available()) throw Error("--device cuda: no CUDA device is available", ErrorKind::unsupported);
  const MemoryPlan plan = plan_with_slots(config, weights, options);
  size_t free_b = 0, total_b = 0;
  HEARTH_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
  if (plan.total() > free_b) {
    throw Error("the model does not fit on the GPU: it needs " + plan.describe() + " for a context of " +
                    std::to_string(options.max_context) + " tokens in " + std::to_string(options.slots) + " slot(s), and the device has " + gib(free_b) + " free of " +
                    gib(total_b) + ". Lower --max-context or --parallel, or use a smaller model or quantization.",
                ErrorKind::unsupported);
  }
  CudaOptions o;
  o.random_weights = options.random_weights;
  o.seed = options.seed;
  o.precision = options.precision;
  return std::make_unique<CudaOps>(o);
}

}  // namespace hearth::engine::cuda
