#include "engine/config.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "util/error.h"

namespace hearth::engine {

using nlohmann::json;

std::string architecture_name(Architecture a) {
  switch (a) {
    case Architecture::qwen3_5: return "qwen3_5";
    case Architecture::qwen3_5_moe: return "qwen3_5_moe";
    case Architecture::qwen3: return "qwen3";
    case Architecture::qwen3_moe: return "qwen3_moe";
  }
  return "?";
}

namespace {

const char* kSupported = "qwen3_5, qwen3_5_moe (Qwen3.5/3.6), qwen3, qwen3_moe";

struct Reader {
  const json& text;  // the text model's settings
  const json& top;   // the whole document (fallback for a few keys)
  const std::string& source;

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(source + ": " + what, ErrorKind::invalid_request);
  }
  const json* find(const char* key) const {
    if (text.contains(key) && !text[key].is_null()) return &text[key];
    if (top.contains(key) && !top[key].is_null()) return &top[key];
    return nullptr;
  }
  int64_t integer(const char* key) const {
    const json* v = find(key);
    if (!v) fail(std::string("missing \"") + key + "\"");
    if (!v->is_number_integer()) fail(std::string("\"") + key + "\" is not an integer");
    int64_t x = v->get<int64_t>();
    if (x < 0) fail(std::string("\"") + key + "\" is negative");
    return x;
  }
  int64_t integer_or(const char* key, int64_t dflt) const { return find(key) ? integer(key) : dflt; }
  double number_or(const char* key, double dflt) const {
    const json* v = find(key);
    if (!v) return dflt;
    if (!v->is_number()) fail(std::string("\"") + key + "\" is not a number");
    return v->get<double>();
  }
  bool boolean_or(const char* key, bool dflt) const {
    const json* v = find(key);
    if (!v) return dflt;
    if (!v->is_boolean()) fail(std::string("\"") + key + "\" is not true/false");
    return v->get<bool>();
  }
};

QuantSetting parse_setting(const json& j, const QuantSetting& base, const std::string& where, const std::string& source) {
  QuantSetting s = base;
  auto bad = [&](const std::string& what) {
    throw Error(source + ": quantization " + where + ": " + what, ErrorKind::invalid_request);
  };
  if (j.contains("bits")) {
    if (!j["bits"].is_number_integer()) bad("bits is not an integer");
    s.bits = j["bits"].get<int>();
  }
  if (j.contains("group_size")) {
    if (!j["group_size"].is_number_integer()) bad("group_size is not an integer");
    s.group_size = j["group_size"].get<int>();
  }
  if (j.contains("mode") && !j["mode"].is_null()) {
    if (!j["mode"].is_string()) bad("mode is not a string");
    s.mode = j["mode"].get<std::string>();
  } else if (!where.empty()) {
    // An override without a mode is an affine setting (mlx-lm's gate overrides carry none).
    s.mode = "affine";
  }
  if (s.mode != "affine" && s.mode != "mxfp4" && s.mode != "nvfp4" && s.mode != "mxfp8") {
    throw Error(source + ": quantization mode '" + s.mode + "' is not supported (affine, mxfp4, nvfp4, mxfp8 are)",
                ErrorKind::unsupported);
  }
  return s;
}

QuantizationConfig parse_quantization(const json& doc, const std::string& source) {
  QuantizationConfig q;
  const json* block = nullptr;
  if (doc.contains("quantization") && doc["quantization"].is_object()) block = &doc["quantization"];
  else if (doc.contains("quantization_config") && doc["quantization_config"].is_object()) block = &doc["quantization_config"];
  if (!block) return q;
  if (block->contains("quant_method") && !block->contains("bits")) {
    throw Error(source + ": quantization method '" + (*block)["quant_method"].dump() +
                    "' is not supported (MLX affine, mxfp4, nvfp4 are)",
                ErrorKind::unsupported);
  }
  q.present = true;
  QuantSetting defaults;
  q.global = parse_setting(*block, defaults, "", source);
  for (auto it = block->begin(); it != block->end(); ++it) {
    if (it.value().is_object()) {
      q.overrides[it.key()] = parse_setting(it.value(), q.global, it.key(), source);
    } else if (it.value().is_boolean() && !it.value().get<bool>()) {
      q.overrides[it.key()] = std::nullopt;
    }
  }
  return q;
}

}  // namespace

int64_t ModelConfig::num_full_layers() const {
  int64_t n = 0;
  for (auto k : layer_types) n += k == LayerKind::full_attention;
  return n;
}

int64_t ModelConfig::num_linear_layers() const { return num_layers - num_full_layers(); }

std::string ModelConfig::summary() const {
  std::string s = architecture_name(architecture) + ": " + std::to_string(num_layers) + " layers (" +
                  std::to_string(num_linear_layers()) + " linear attention, " + std::to_string(num_full_layers()) +
                  " full attention), hidden " + std::to_string(hidden_size);
  if (num_experts) {
    s += ", " + std::to_string(num_experts) + " experts top-" + std::to_string(experts_per_token);
  }
  s += ", vocab " + std::to_string(vocab_size);
  if (quantization.present) {
    s += ", " + quantization.global.mode;
    if (quantization.global.mode == "affine") {
      s += " " + std::to_string(quantization.global.bits) + "-bit g" + std::to_string(quantization.global.group_size);
    }
  }
  return s;
}

ModelConfig parse_model_config(const json& doc, const std::string& source) {
  if (!doc.is_object()) throw Error(source + ": not a JSON object", ErrorKind::invalid_request);
  std::string model_type = doc.contains("model_type") && doc["model_type"].is_string() ? doc["model_type"].get<std::string>() : "";
  const json& text = doc.contains("text_config") && doc["text_config"].is_object() ? doc["text_config"] : doc;
  if (model_type.empty() && text.contains("model_type") && text["model_type"].is_string()) {
    model_type = text["model_type"].get<std::string>();
  }
  ModelConfig c;
  c.model_type = model_type;
  if (model_type == "qwen3_5" || model_type == "qwen3_5_text") c.architecture = Architecture::qwen3_5;
  else if (model_type == "qwen3_5_moe" || model_type == "qwen3_5_moe_text") c.architecture = Architecture::qwen3_5_moe;
  else if (model_type == "qwen3") c.architecture = Architecture::qwen3;
  else if (model_type == "qwen3_moe") c.architecture = Architecture::qwen3_moe;
  else {
    throw Error(source + ": model_type '" + (model_type.empty() ? std::string("(none)") : model_type) +
                    "' is not supported; hearth runs " + kSupported,
                ErrorKind::unsupported);
  }
  const bool qwen35 = c.architecture == Architecture::qwen3_5 || c.architecture == Architecture::qwen3_5_moe;
  const bool moe = c.architecture == Architecture::qwen3_5_moe || c.architecture == Architecture::qwen3_moe;
  Reader r{text, doc, source};

  c.vocab_size = r.integer("vocab_size");
  c.hidden_size = r.integer("hidden_size");
  c.num_layers = r.integer("num_hidden_layers");
  // Per-layer tables are sized from it before any weight is read: a corrupt value must be refused here,
  // not met as a terabyte allocation (found by tests/fuzz/loaders_fuzz.cpp). The largest real models
  // have a few hundred layers.
  constexpr int64_t kMaxLayers = 4096;
  if (c.num_layers <= 0 || c.num_layers > kMaxLayers) {
    r.fail("num_hidden_layers must be between 1 and " + std::to_string(kMaxLayers) + ", not " + std::to_string(c.num_layers));
  }
  c.rms_norm_eps = static_cast<float>(r.number_or("rms_norm_eps", 1e-6));
  c.tie_word_embeddings = r.boolean_or("tie_word_embeddings", false);
  c.max_position_embeddings = r.integer_or("max_position_embeddings", 32768);
  c.num_heads = r.integer("num_attention_heads");
  c.num_kv_heads = r.integer_or("num_key_value_heads", c.num_heads);
  c.head_dim = r.integer_or("head_dim", c.num_heads ? c.hidden_size / c.num_heads : 0);
  c.zero_centred_norm = qwen35;
  c.attn_output_gate = qwen35 ? r.boolean_or("attn_output_gate", true) : false;
  if (r.boolean_or("attention_bias", false)) {
    throw Error(source + ": attention_bias = true is not supported", ErrorKind::unsupported);
  }
  if (const json* act = r.find("hidden_act"); act && act->is_string() && act->get<std::string>() != "silu") {
    throw Error(source + ": hidden_act '" + act->get<std::string>() + "' is not supported (silu is)", ErrorKind::unsupported);
  }

  // RoPE: rope_parameters (transformers 5) or rope_theta / rope_scaling (older files).
  double partial = r.number_or("partial_rotary_factor", qwen35 ? 0.25 : 1.0);
  c.rope_theta = r.number_or("rope_theta", 10000.0);
  const json* rope = r.find("rope_parameters");
  if (!rope) rope = r.find("rope_scaling");
  if (rope && rope->is_object()) {
    if (rope->contains("rope_theta")) c.rope_theta = (*rope)["rope_theta"].get<double>();
    if (rope->contains("partial_rotary_factor")) partial = (*rope)["partial_rotary_factor"].get<double>();
    std::string type = "default";
    if (rope->contains("rope_type") && (*rope)["rope_type"].is_string()) type = (*rope)["rope_type"].get<std::string>();
    else if (rope->contains("type") && (*rope)["type"].is_string()) type = (*rope)["type"].get<std::string>();
    if (type != "default" && type != "mrope") {
      throw Error(source + ": RoPE type '" + type + "' is not supported (default is)", ErrorKind::unsupported);
    }
  }
  c.rotary_dim = static_cast<int64_t>(static_cast<double>(c.head_dim) * partial);

  // Layer types.
  if (const json* lt = r.find("layer_types"); lt && lt->is_array() && qwen35) {
    for (const json& t : *lt) {
      std::string s = t.is_string() ? t.get<std::string>() : "";
      if (s == "linear_attention") c.layer_types.push_back(LayerKind::linear_attention);
      else if (s == "full_attention") c.layer_types.push_back(LayerKind::full_attention);
      else r.fail("layer_types has an unknown entry " + t.dump());
    }
    if (static_cast<int64_t>(c.layer_types.size()) != c.num_layers) {
      r.fail("layer_types has " + std::to_string(c.layer_types.size()) + " entries for " + std::to_string(c.num_layers) +
             " layers");
    }
  } else {
    const int64_t interval = qwen35 ? r.integer_or("full_attention_interval", 4) : 1;
    if (interval <= 0) r.fail("full_attention_interval must be positive");
    for (int64_t i = 0; i < c.num_layers; ++i) {
      c.layer_types.push_back((i + 1) % interval == 0 ? LayerKind::full_attention : LayerKind::linear_attention);
    }
  }
  if (c.num_linear_layers() > 0) {
    c.conv_kernel = r.integer_or("linear_conv_kernel_dim", 4);
    c.linear_k_heads = r.integer("linear_num_key_heads");
    c.linear_v_heads = r.integer("linear_num_value_heads");
    c.linear_k_dim = r.integer("linear_key_head_dim");
    c.linear_v_dim = r.integer("linear_value_head_dim");
    if (c.linear_k_heads == 0 || c.linear_v_heads % c.linear_k_heads != 0) {
      r.fail("linear_num_value_heads must be a multiple of linear_num_key_heads");
    }
    if (c.conv_kernel < 1) r.fail("linear_conv_kernel_dim must be at least 1");
  }

  // MLP.
  c.moe_layer.assign(static_cast<size_t>(c.num_layers), false);
  if (moe) {
    c.num_experts = r.integer("num_experts");
    c.experts_per_token = r.integer("num_experts_per_tok");
    c.moe_intermediate_size = r.integer("moe_intermediate_size");
    c.shared_expert_intermediate_size = r.integer_or("shared_expert_intermediate_size", 0);
    c.norm_topk_prob = c.architecture == Architecture::qwen3_5_moe ? true : r.boolean_or("norm_topk_prob", true);
    if (c.num_experts == 0 || c.experts_per_token == 0 || c.experts_per_token > c.num_experts) {
      r.fail("num_experts_per_tok must be between 1 and num_experts");
    }
    const int64_t step = c.architecture == Architecture::qwen3_moe ? r.integer_or("decoder_sparse_step", 1) : 1;
    std::vector<int64_t> mlp_only;
    if (const json* m = r.find("mlp_only_layers"); m && m->is_array() && c.architecture == Architecture::qwen3_moe) {
      for (const json& v : *m) mlp_only.push_back(v.get<int64_t>());
    }
    for (int64_t i = 0; i < c.num_layers; ++i) {
      bool only = std::find(mlp_only.begin(), mlp_only.end(), i) != mlp_only.end();
      c.moe_layer[static_cast<size_t>(i)] = !only && step > 0 && (i + 1) % step == 0;
    }
  }
  bool any_dense = false;
  for (bool m : c.moe_layer) any_dense |= !m;
  if (any_dense) c.intermediate_size = r.integer("intermediate_size");

  // EOS ids (top level first: the wrapper's value is the chat end-of-turn token).
  auto add_eos = [&](const json& v) {
    if (v.is_number_integer()) c.eos_token_ids.push_back(v.get<int32_t>());
    else if (v.is_array()) for (const json& e : v) if (e.is_number_integer()) c.eos_token_ids.push_back(e.get<int32_t>());
  };
  if (doc.contains("eos_token_id")) add_eos(doc["eos_token_id"]);
  if (&text != &doc && text.contains("eos_token_id")) add_eos(text["eos_token_id"]);

  // Consistency.
  if (c.vocab_size == 0 || c.hidden_size == 0 || c.num_layers == 0) r.fail("vocab_size, hidden_size and num_hidden_layers must be positive");
  if (c.num_full_layers() > 0) {
    if (c.num_heads == 0 || c.num_kv_heads == 0 || c.num_heads % c.num_kv_heads != 0) {
      r.fail("num_attention_heads must be a positive multiple of num_key_value_heads");
    }
    if (c.head_dim == 0 || c.rotary_dim % 2 != 0 || c.rotary_dim > c.head_dim) {
      r.fail("head_dim × partial_rotary_factor must be an even number no larger than head_dim");
    }
  }
  c.quantization = parse_quantization(doc, source);
  return c;
}

ModelConfig load_model_config(const std::filesystem::path& path) {
  std::filesystem::path file = std::filesystem::is_directory(path) ? path / "config.json" : path;
  std::ifstream in(file);
  if (!in) throw Error(file.string() + ": cannot read (no config.json?)", ErrorKind::not_found);
  json doc;
  try {
    doc = json::parse(in);
  } catch (const json::exception& e) {
    throw Error(file.string() + ": not valid JSON: " + e.what(), ErrorKind::invalid_request);
  }
  return parse_model_config(doc, file.string());
}

}  // namespace hearth::engine
