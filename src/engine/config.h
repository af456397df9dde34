#pragma once
// Model configuration from a model directory's config.json: the text model of Qwen3.5/3.6
// (`qwen3_5` dense, `qwen3_5_moe`; settings under `text_config` in the vision-language wrappers) and
// Qwen3 (`qwen3`, `qwen3_moe`: the same blocks with full attention only and plain RMSNorm), plus the
// MLX `quantization` block with its per-module overrides.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace hearth::engine {

enum class Architecture { qwen3_5, qwen3_5_moe, qwen3, qwen3_moe };
std::string architecture_name(Architecture a);
enum class LayerKind { linear_attention, full_attention };

// One quantization setting: mode "affine", "mxfp4", "nvfp4" or "mxfp8".
struct QuantSetting {
  std::string mode = "affine";
  int bits = 4;
  int group_size = 64;
};

// config.json "quantization" (MLX). Absent: the model is unquantized.
struct QuantizationConfig {
  bool present = false;
  QuantSetting global;
  // Module path (e.g. "language_model.model.layers.0.mlp.gate") → setting, or nullopt for `false`
  // (that module is stored unquantized).
  std::map<std::string, std::optional<QuantSetting>> overrides;
};

struct ModelConfig {
  Architecture architecture = Architecture::qwen3_5;
  std::string model_type;  // as written (top level)
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_layers = 0;
  std::vector<LayerKind> layer_types;
  float rms_norm_eps = 1e-6f;
  bool tie_word_embeddings = false;
  int64_t max_position_embeddings = 0;
  std::vector<int32_t> eos_token_ids;

  // full attention
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  bool attn_output_gate = false;  // q_proj also yields a sigmoid gate per head (Qwen3.5)
  double rope_theta = 10000.0;
  int64_t rotary_dim = 0;         // head_dim · partial_rotary_factor

  // linear attention (Gated DeltaNet)
  int64_t conv_kernel = 4;
  int64_t linear_k_heads = 0;
  int64_t linear_v_heads = 0;
  int64_t linear_k_dim = 0;
  int64_t linear_v_dim = 0;

  // MLP
  int64_t intermediate_size = 0;  // dense MLP
  int64_t num_experts = 0;        // 0: dense
  int64_t experts_per_token = 0;
  int64_t moe_intermediate_size = 0;
  int64_t shared_expert_intermediate_size = 0;  // 0: no shared expert
  bool norm_topk_prob = true;
  std::vector<bool> moe_layer;  // per layer: MoE block (else dense MLP)

  // Qwen3.5 checkpoints store RMSNorm weights zero-centred (y = x̂·(1+w)); Qwen3 stores w itself.
  bool zero_centred_norm = false;

  QuantizationConfig quantization;

  int64_t linear_conv_channels() const { return 2 * linear_k_heads * linear_k_dim + linear_v_heads * linear_v_dim; }
  int64_t num_full_layers() const;
  int64_t num_linear_layers() const;
  std::string summary() const;  // one line for banners
};

// Parses a config.json document. `source` names it in errors. Throws hearth::Error (unsupported
// architecture: the message lists the supported ones; missing or inconsistent fields: names them).
ModelConfig parse_model_config(const nlohmann::json& doc, const std::string& source);
// Reads `path` (a config.json, or a directory holding one).
ModelConfig load_model_config(const std::filesystem::path& path);

}  // namespace hearth::engine
