#pragma once
// The two tensor naming schemes hearth reads, detected from the names present:
//   Hugging Face: "model.language_model.layers.N...." + "lm_head.weight" (vision-language wrappers) or
//                 "model.layers.N...." (text-only checkpoints); experts fused
//                 ("mlp.experts.gate_up_proj" [E, 2I, H]) or per expert ("mlp.experts.E.gate_proj.weight");
//                 conv1d [C, 1, K]; Qwen3.5 norms zero-centred.
//   MLX (mlx-lm / mlx-vlm): "language_model.model.layers.N...." + "language_model.lm_head" (or
//                 "model." / "lm_head" for text-only conversions); experts stacked
//                 ("mlp.switch_mlp.gate_proj" [E, I, H]); conv1d [C, K, 1]; Qwen3.5 norms stored as 1 + w.
#include <cstdint>
#include <string>

#include "engine/safetensors.h"

namespace hearth::engine {

enum class NamingScheme { hugging_face, mlx };

struct TensorNames {
  NamingScheme scheme = NamingScheme::hugging_face;
  std::string model_prefix;  // "model.language_model.", "language_model.model." or "model."
  std::string lm_head;       // module path of the output projection ("lm_head", "language_model.lm_head")

  std::string embed() const { return model_prefix + "embed_tokens"; }
  std::string final_norm() const { return model_prefix + "norm"; }
  std::string layer(int64_t i) const { return model_prefix + "layers." + std::to_string(i) + "."; }
  std::string scheme_name() const { return scheme == NamingScheme::mlx ? "MLX" : "Hugging Face"; }
};

// Finds the embedding under one of the known prefixes and derives the rest. Throws hearth::Error
// listing the names it looked for when none matches.
TensorNames detect_tensor_names(const WeightFiles& files);

}  // namespace hearth::engine
