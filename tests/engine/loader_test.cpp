// Loading models: both naming schemes and every expert layout give the same model; every kind of bad
// file gives a hearth::Error naming the tensor (or file) and the problem; configs; dummy weights.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/config.h"
#include "engine/demo_model.h"
#include "engine/loader.h"
#include "reference_data.h"
#include "safetensors_writer.h"
#include "util/error.h"

namespace hearth::engine {
namespace {

using nlohmann::json;
using testing::read_all_tensors;
using testing::scratch_model_dir;
using testing::TensorMap;
using testing::tiny_model_dir;
using testing::write_safetensors;
namespace fs = std::filesystem;

std::unique_ptr<Model> load(const fs::path& dir, LoadFormat format = LoadFormat::safetensors, uint64_t seed = 1) {
  LoadOptions o;
  o.model_dir = dir;
  o.format = format;
  o.max_context = 256;
  o.threads = 2;
  o.dummy_seed = seed;
  return load_model(o);
}

std::vector<float> logits_after(Model& m, std::vector<Token> tokens) {
  m.reset();
  m.prefill(tokens);
  return {m.logits().begin(), m.logits().end()};
}

const std::vector<Token> kPrompt = {1, 100, 200, 300, 7, 9, 11, 400, 500, 3};

// Expects loading `dir` to fail with a message containing every one of `parts`.
void expect_load_error(const fs::path& dir, std::vector<std::string> parts) {
  try {
    load(dir);
    ADD_FAILURE() << "loading " << dir << " should have failed";
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "message: " << msg << "\nmissing: " << p;
  }
}

std::string rename_prefix(const std::string& name, const std::string& from, const std::string& to) {
  return name.rfind(from, 0) == 0 ? to + name.substr(from.size()) : name;
}

// ---- naming schemes and layouts ----------------------------------------------------------------------

TEST(NamingSchemes, HuggingFaceTextOnlyPrefixLoadsTheSameModel) {
  const fs::path src = tiny_model_dir("dense-hf-bf16");
  const fs::path dir = scratch_model_dir("hf-text-only", src);
  TensorMap renamed;
  for (auto& [n, t] : read_all_tensors(src)) renamed[rename_prefix(n, "model.language_model.", "model.")] = t;
  write_safetensors(dir / "model.safetensors", renamed);
  EXPECT_EQ(logits_after(*load(dir), kPrompt), logits_after(*load(src), kPrompt));
}

TEST(NamingSchemes, MlxTextOnlyPrefixLoadsTheSameQuantizedModel) {
  const fs::path src = tiny_model_dir("dense-mlx-affine4-g64");
  const fs::path dir = scratch_model_dir("mlx-text-only", src);
  TensorMap renamed;
  for (auto& [n, t] : read_all_tensors(src)) {
    std::string m = rename_prefix(n, "language_model.model.", "model.");
    m = rename_prefix(m, "language_model.lm_head", "lm_head");
    renamed[m] = t;
  }
  write_safetensors(dir / "model.safetensors", renamed, "mlx");
  EXPECT_EQ(logits_after(*load(dir), kPrompt), logits_after(*load(src), kPrompt));
}

TEST(ExpertLayouts, FusedGateUpExpertsLoadLikePerExpertTensors) {
  const fs::path src = tiny_model_dir("moe-hf-bf16-sharded");
  const fs::path dir = scratch_model_dir("hf-fused-experts", src);
  const ModelConfig c = load_model_config(src);
  TensorMap in = read_all_tensors(src), out;
  for (auto& [n, t] : in) {
    if (n.find(".mlp.experts.") == std::string::npos) out[n] = t;
  }
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const std::string p = "model.language_model.layers." + std::to_string(l) + ".mlp.experts.";
    testing::RawTensor gate_up{"BF16", {c.num_experts, 2 * c.moe_intermediate_size, c.hidden_size}, {}};
    testing::RawTensor down{"BF16", {c.num_experts, c.hidden_size, c.moe_intermediate_size}, {}};
    for (int64_t e = 0; e < c.num_experts; ++e) {
      const std::string x = p + std::to_string(e) + ".";
      for (const char* part : {"gate_proj", "up_proj"}) {
        const auto& b = in.at(x + part + ".weight").bytes;
        gate_up.bytes.insert(gate_up.bytes.end(), b.begin(), b.end());
      }
      const auto& d = in.at(x + "down_proj.weight").bytes;
      down.bytes.insert(down.bytes.end(), d.begin(), d.end());
    }
    // gate_up per expert must be [gate rows | up rows]: rebuild in that order.
    testing::RawTensor ordered{"BF16", gate_up.shape, {}};
    const size_t half = static_cast<size_t>(c.moe_intermediate_size * c.hidden_size * 2);
    for (int64_t e = 0; e < c.num_experts; ++e) {
      const auto* base = gate_up.bytes.data() + e * 2 * half;
      ordered.bytes.insert(ordered.bytes.end(), base, base + 2 * half);
    }
    out[p + "gate_up_proj"] = ordered;
    out[p + "down_proj"] = down;
  }
  write_safetensors(dir / "model.safetensors", out);
  EXPECT_EQ(logits_after(*load(dir), kPrompt), logits_after(*load(src), kPrompt));
}

TEST(NamingSchemes, TiedEmbeddingsWithoutLmHeadLoad) {
  const fs::path src = tiny_model_dir("qwen3-hf-bf16");
  const fs::path dir = scratch_model_dir("tied", src);
  json cfg = json::parse(std::ifstream(src / "config.json"));
  cfg["tie_word_embeddings"] = true;
  std::ofstream(dir / "config.json") << cfg.dump();
  TensorMap t = read_all_tensors(src);
  t.erase("lm_head.weight");
  write_safetensors(dir / "model.safetensors", t);
  auto m = load(dir);
  const auto l = logits_after(*m, kPrompt);
  for (float v : l) ASSERT_TRUE(std::isfinite(v));
  // Without the tie, the missing head is an error.
  cfg["tie_word_embeddings"] = false;
  std::ofstream(dir / "config.json") << cfg.dump();
  expect_load_error(dir, {"missing tensor", "lm_head.weight"});
}

// ---- bad files ------------------------------------------------------------------------------------------

class BadFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = tiny_model_dir("dense-hf-bf16");
    tensors_ = read_all_tensors(src_);
  }
  fs::path write(const std::string& name, const TensorMap& t) {
    const fs::path dir = scratch_model_dir(name, src_);
    write_safetensors(dir / "model.safetensors", t);
    return dir;
  }
  fs::path src_;
  TensorMap tensors_;
  const std::string q_proj_ = "model.language_model.layers.1.self_attn.q_proj.weight";
};

TEST_F(BadFiles, TruncatedFileNamesTheFileTheTensorAndSaysTruncated) {
  const fs::path dir = scratch_model_dir("truncated", src_);
  fs::copy_file(src_ / "model.safetensors", dir / "model.safetensors");
  fs::resize_file(dir / "model.safetensors", fs::file_size(dir / "model.safetensors") / 2);
  expect_load_error(dir, {"model.safetensors", "truncated", "tensor '"});
  fs::resize_file(dir / "model.safetensors", 5);
  expect_load_error(dir, {"model.safetensors", "too short"});
}

TEST_F(BadFiles, ImplausibleHeaderLengthAndInvalidJsonAreReported) {
  const fs::path dir = scratch_model_dir("bad-header", src_);
  {
    std::ofstream out(dir / "model.safetensors", std::ios::binary);
    const uint64_t len = 1ull << 40;
    out.write(reinterpret_cast<const char*>(&len), 8);
    out << "{}";
  }
  expect_load_error(dir, {"model.safetensors", "header length"});
  {
    std::ofstream out(dir / "model.safetensors", std::ios::binary);
    const uint64_t len = 8;
    out.write(reinterpret_cast<const char*>(&len), 8);
    out << "{nojson}";
  }
  expect_load_error(dir, {"model.safetensors", "not valid JSON"});
}

TEST_F(BadFiles, MissingTensorIsNamed) {
  tensors_.erase("model.language_model.layers.1.self_attn.k_proj.weight");
  expect_load_error(write("missing", tensors_), {"missing tensor", "layers.1.self_attn.k_proj.weight"});
}

TEST_F(BadFiles, WrongDtypeIsNamedWithTheExpectedOnes) {
  auto& norm = tensors_.at("model.language_model.layers.0.input_layernorm.weight");
  norm.dtype = "U8";
  norm.bytes.resize(norm.bytes.size() / 2);
  expect_load_error(write("dtype-vector", tensors_), {"layers.0.input_layernorm.weight", "dtype U8", "BF16"});

  tensors_ = read_all_tensors(src_);
  auto& q = tensors_.at(q_proj_);
  q.dtype = "U32";
  q.shape.back() /= 2;
  expect_load_error(write("dtype-matrix", tensors_), {q_proj_, "U32", "scales"});
}

TEST_F(BadFiles, ShapeMismatchNamesTheTensorAndBothShapes) {
  auto& q = tensors_.at(q_proj_);
  std::swap(q.shape[0], q.shape[1]);
  expect_load_error(write("shape", tensors_), {q_proj_, "[128, 256]", "expected [256, 128]", "shape mismatch"});
}

TEST_F(BadFiles, ByteCountThatDisagreesWithShapeIsReported) {
  tensors_.at(q_proj_).bytes.resize(100);
  expect_load_error(write("bytes", tensors_), {q_proj_, "holds 100 bytes"});
}

TEST_F(BadFiles, IndexNamingAMissingShardOrTheWrongShardIsReported) {
  const fs::path moe = tiny_model_dir("moe-hf-bf16-sharded");
  const fs::path dir = scratch_model_dir("shards", moe);
  fs::copy_file(moe / "model.safetensors.index.json", dir / "model.safetensors.index.json");
  fs::copy_file(moe / "model-00001-of-00002.safetensors", dir / "model-00001-of-00002.safetensors");
  expect_load_error(dir, {"model-00002-of-00002.safetensors", "missing"});

  fs::copy_file(moe / "model-00002-of-00002.safetensors", dir / "model-00002-of-00002.safetensors");
  json index = json::parse(std::ifstream(moe / "model.safetensors.index.json"));
  index["weight_map"]["lm_head.weight"] = "model-00001-of-00002.safetensors";
  std::ofstream(dir / "model.safetensors.index.json") << index.dump();
  expect_load_error(dir, {"lm_head.weight", "is not there"});
}

TEST_F(BadFiles, QuantizedWeightWithoutBiasesIsReported) {
  const fs::path src = tiny_model_dir("dense-mlx-affine4-g64");
  const fs::path dir = scratch_model_dir("no-biases", src);
  TensorMap t = read_all_tensors(src);
  t.erase("language_model.model.layers.0.mlp.up_proj.biases");
  write_safetensors(dir / "model.safetensors", t, "mlx");
  expect_load_error(dir, {"language_model.model.layers.0.mlp.up_proj.biases", "missing"});
}

TEST_F(BadFiles, DirectoryWithoutWeightsIsReported) {
  const fs::path dir = scratch_model_dir("empty", src_);
  expect_load_error(dir, {"no model.safetensors"});
}

// ---- configs ---------------------------------------------------------------------------------------------

TEST(Config, UnsupportedModelTypeNamesTheSupportedOnes) {
  try {
    parse_model_config(json{{"model_type", "llama"}, {"hidden_size", 8}}, "config.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::unsupported);
    const std::string m = e.what();
    for (const char* s : {"llama", "qwen3_5", "qwen3_5_moe", "qwen3", "qwen3_moe"}) EXPECT_NE(m.find(s), std::string::npos) << m;
  }
}

TEST(Config, ImplausibleLayerCountIsRefusedBeforeAnythingIsSized) {
  // Found by tests/fuzz/loaders_fuzz.cpp: 77439444444432 layers became a terabyte layer table.
  json cfg = json::parse(std::ifstream(tiny_model_dir("qwen3moe-hf-bf16") / "config.json"));
  json& text = cfg.contains("text_config") ? cfg["text_config"] : cfg;
  for (int64_t layers : {int64_t{77439444444432}, int64_t{0}, int64_t{-4}}) {
    text["num_hidden_layers"] = layers;
    try {
      parse_model_config(cfg, "config.json");
      FAIL() << layers;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("num_hidden_layers"), std::string::npos) << e.what();
    }
  }
}

TEST(Config, MissingFieldIsNamed) {
  json cfg = json::parse(std::ifstream(tiny_model_dir("dense-hf-bf16") / "config.json"));
  cfg["text_config"].erase("hidden_size");
  try {
    parse_model_config(cfg, "config.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("hidden_size"), std::string::npos) << e.what();
  }
}

// The text part of mlx-community/Qwen3.6-35B-A3B-4bit's config.json (layer_types implied by the interval).
const char* k35B = R"({
  "architectures": ["Qwen3_5MoeForConditionalGeneration"], "model_type": "qwen3_5_moe", "eos_token_id": 248046,
  "text_config": {"attention_bias": false, "head_dim": 256, "hidden_act": "silu", "rms_norm_eps": 1e-06,
    "linear_conv_kernel_dim": 4, "linear_key_head_dim": 128, "linear_value_head_dim": 128, "linear_num_key_heads": 16,
    "full_attention_interval": 4, "vocab_size": 248320, "max_position_embeddings": 262144, "tie_word_embeddings": false,
    "attn_output_gate": true, "rope_parameters": {"rope_type": "default", "rope_theta": 10000000.0,
    "partial_rotary_factor": 0.25, "mrope_section": [11, 11, 10], "mrope_interleaved": true},
    "eos_token_id": 248044, "model_type": "qwen3_5_moe_text", "hidden_size": 2048, "num_hidden_layers": 40,
    "num_attention_heads": 16, "num_key_value_heads": 2, "linear_num_value_heads": 32, "num_experts": 256,
    "num_experts_per_tok": 8, "moe_intermediate_size": 512, "shared_expert_intermediate_size": 512},
  "quantization": {"group_size": 64, "bits": 4}})";

TEST(Config, Qwen36_35B_A3B_ShapeParses) {
  const ModelConfig c = parse_model_config(json::parse(k35B), "35b");
  EXPECT_EQ(c.architecture, Architecture::qwen3_5_moe);
  EXPECT_EQ(c.num_linear_layers(), 30);
  EXPECT_EQ(c.num_full_layers(), 10);
  EXPECT_EQ(c.layer_types[3], LayerKind::full_attention);
  EXPECT_EQ(c.rotary_dim, 64);
  EXPECT_EQ(c.linear_conv_channels(), 8192);
  EXPECT_EQ(c.experts_per_token, 8);
  EXPECT_TRUE(c.zero_centred_norm);
  EXPECT_TRUE(c.quantization.present);
  EXPECT_EQ(c.quantization.global.bits, 4);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int32_t>{248046, 248044}));
}

TEST(Config, QuantizationOverridesAreParsed) {
  const ModelConfig c = load_model_config(tiny_model_dir("dense-mlx-affine4-g128-overrides"));
  ASSERT_TRUE(c.quantization.present);
  EXPECT_EQ(c.quantization.global.group_size, 128);
  const auto& o = c.quantization.overrides;
  ASSERT_TRUE(o.count("language_model.model.layers.0.mlp.down_proj"));
  EXPECT_EQ(o.at("language_model.model.layers.0.mlp.down_proj")->bits, 8);
  ASSERT_TRUE(o.count("language_model.model.layers.1.self_attn.o_proj"));
  EXPECT_FALSE(o.at("language_model.model.layers.1.self_attn.o_proj").has_value());
}

// ---- dummy weights -----------------------------------------------------------------------------------------

TEST(DummyWeights, TinyConfigIsDeterministicPerSeedAndFinite) {
  const fs::path dir = tiny_model_dir("moe-mlx-nvfp4");
  const auto a = logits_after(*load(dir, LoadFormat::dummy, 7), kPrompt);
  const auto b = logits_after(*load(dir, LoadFormat::dummy, 7), kPrompt);
  const auto c = logits_after(*load(dir, LoadFormat::dummy, 8), kPrompt);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  for (float v : a) ASSERT_TRUE(std::isfinite(v));
}

size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

TEST(DummyWeights, Qwen36_35B_A3B_ShapeLoadsAndRunsWithoutAllocatingTheModel) {
  const fs::path dir = std::filesystem::temp_directory_path() / ("hearth-engine-test-35b-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "config.json") << k35B;
  const size_t before = resident_bytes();
  LoadOptions o;
  o.model_dir = dir;
  o.format = LoadFormat::dummy;
  o.max_context = 64;
  o.threads = 2;
  auto m = load_model(o);
  const Token t[2] = {1, 248000};
  m->prefill(t);
  EXPECT_EQ(m->logits().size(), 248320u);
  for (float v : m->logits()) ASSERT_TRUE(std::isfinite(v));
  // The model is ~19 GB of 4-bit weights; the dummy pools keep it far below that.
  EXPECT_LT(resident_bytes() - before, size_t(2) << 30);
}

TEST(DemoModel, LoadsWithDummyWeightsAndTheQwen3TokenizerVocabulary) {
  const fs::path dir = write_demo_model_dir(std::filesystem::temp_directory_path() / ("hearth-engine-test-demo-" + std::to_string(getpid())));
  auto m = load(dir, LoadFormat::dummy);
  EXPECT_EQ(m->info().vocab_size, 151669);
  EXPECT_EQ(m->info().architecture, "qwen3_5");
  const auto l = logits_after(*m, kPrompt);
  for (float v : l) ASSERT_TRUE(std::isfinite(v));
}

}  // namespace
}  // namespace hearth::engine
