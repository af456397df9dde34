#include "engine/demo_model.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "util/error.h"

namespace hearth::engine {

nlohmann::json demo_model_config(int64_t vocab_size) {
  // The Qwen3.5 layer pattern (3 linear-attention layers, then 1 full attention) at a width that
  // decodes at interactive speed on a laptop CPU.
  nlohmann::json text = {
      {"model_type", "qwen3_5_text"},
      {"vocab_size", vocab_size},
      {"hidden_size", 256},
      {"intermediate_size", 512},
      {"num_hidden_layers", 4},
      {"layer_types", {"linear_attention", "linear_attention", "linear_attention", "full_attention"}},
      {"num_attention_heads", 4},
      {"num_key_value_heads", 2},
      {"head_dim", 64},
      {"linear_conv_kernel_dim", 4},
      {"linear_key_head_dim", 32},
      {"linear_value_head_dim", 32},
      {"linear_num_key_heads", 4},
      {"linear_num_value_heads", 8},
      {"rms_norm_eps", 1e-6},
      {"hidden_act", "silu"},
      {"attn_output_gate", true},
      {"tie_word_embeddings", false},
      {"max_position_embeddings", 32768},
      {"rope_parameters", {{"rope_type", "default"}, {"rope_theta", 10000000.0}, {"partial_rotary_factor", 0.25}}},
  };
  return {{"architectures", {"Qwen3_5ForConditionalGeneration"}},
          {"model_type", "qwen3_5"},
          {"text_config", text},
          {"hearth_demo", true}};
}

std::filesystem::path write_demo_model_dir(const std::filesystem::path& dir, int64_t vocab_size) {
  std::filesystem::create_directories(dir);
  std::ofstream out(dir / "config.json");
  out << demo_model_config(vocab_size).dump(1) << "\n";
  if (!out) throw Error("cannot write " + (dir / "config.json").string(), ErrorKind::io);
  return dir;
}

}  // namespace hearth::engine
