#pragma once
// The weights of one Qwen3.5/3.6 (or Qwen3) text model, as the forward pass reads them: matrices in
// their stored format (pointers into memory-mapped files, or a dummy arena), small per-channel
// vectors as float32 with the checkpoint's conventions already applied (zero-centred norms folded to
// 1 + w; conv1d as [channels, K]). `storage` keeps whatever owns the matrices' memory alive.
#include <memory>
#include <vector>

#include "engine/config.h"
#include "engine/weight_formats.h"

namespace hearth::engine {

struct AttentionWeights {
  WeightMatrix q, k, v, o;  // q: [heads · head_dim · (gated ? 2 : 1), hidden]
  std::vector<float> q_norm, k_norm;  // [head_dim]
};

struct LinearAttentionWeights {
  WeightMatrix qkv, z, b, a, out;
  std::vector<float> conv;     // [channels, K]
  std::vector<float> a_log;    // [v_heads]
  std::vector<float> dt_bias;  // [v_heads]
  std::vector<float> norm;     // [v_dim] (gated RMSNorm, stored as is)
};

struct MlpWeights {
  WeightMatrix gate, up, down;
};

struct MoeWeights {
  WeightMatrix router;  // [experts, hidden]
  WeightStack gate, up, down;
  bool has_shared = false;
  MlpWeights shared;
  WeightMatrix shared_gate;  // [1, hidden]
};

struct LayerWeights {
  LayerKind kind = LayerKind::full_attention;
  std::vector<float> input_norm, post_norm;  // [hidden]
  AttentionWeights attn;                     // full attention layers
  LinearAttentionWeights linear;             // linear attention layers
  bool is_moe = false;
  MlpWeights mlp;  // dense layers
  MoeWeights moe;  // MoE layers
};

struct ModelWeights {
  WeightMatrix embed;    // [vocab, hidden]
  WeightMatrix lm_head;  // [vocab, hidden] (the embedding when tied)
  std::vector<float> final_norm;
  std::vector<LayerWeights> layers;
  std::shared_ptr<void> storage;  // owns the mapped files / dummy arena
  std::string description;        // e.g. "safetensors (MLX names, affine 4-bit g64)" or "dummy"
};

}  // namespace hearth::engine
