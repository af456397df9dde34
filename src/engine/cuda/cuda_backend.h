#pragma once
// What the loader needs to run a model on CUDA: the memory plan (weights + KV cache for the whole
// context + state + scratch, checked against the device's free memory before anything is allocated)
// and the backend itself.
#include <cstdint>
#include <memory>
#include <string>

#include "engine/config.h"
#include "engine/cuda/cuda_ops.h"
#include "engine/model_weights.h"
#include "engine/ops.h"

namespace hearth::engine::cuda {

struct MemoryPlan {
  size_t weights = 0;       // every matrix as stored (data + scales + biases)
  size_t kv_cache = 0;      // full-attention layers, float32, max_context positions
  size_t linear_state = 0;  // conv + recurrent state of the linear-attention layers
  size_t activations = 0;   // the model's scratch for one chunk of max_chunk tokens, and the logits
  size_t workspace = 0;     // kernel scratch (decode attention pieces, grouped MoE buffers, the bf16
                            // weight/activation copies of the fast prefill GEMM)
  size_t reserve = 0;       // allocator rounding and small buffers
  size_t total() const { return weights + kv_cache + linear_state + activations + workspace + reserve; }
  std::string describe() const;  // "weights 18.9 GiB + KV cache 1.3 GiB + ..."
};

MemoryPlan plan_memory(const ModelConfig& config, const ModelWeights& weights, int64_t max_context, int64_t max_chunk,
                       Precision precision = Precision::fast);

struct CudaBackendOptions {
  int64_t max_context = 32768;
  int32_t slots = 1;            // sequences held at once: the KV page pool is planned for slots + 1 contexts
  int64_t max_chunk = 256;
  bool random_weights = false;  // --load-format dummy: weights generated on the GPU
  uint64_t seed = 1;
  Precision precision = Precision::fast;  // of the prefill products (cuda_ops.h)
};

// The largest context (a multiple of 1024, at most `wanted`) whose plan with options.slots fits the
// device's free memory; 0 when not even 1024 positions fit.
int64_t largest_fitting_context(const ModelConfig& config, const ModelWeights& weights, CudaBackendOptions options,
                                int64_t wanted);

// Checks the plan against the device's free memory (hearth::Error naming each part when it does not
// fit), then creates the backend.
std::unique_ptr<Ops> make_cuda_backend(const ModelConfig& config, const ModelWeights& weights,
                                       const CudaBackendOptions& options);

}  // namespace hearth::engine::cuda
