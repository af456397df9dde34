#include "engine/weight_loader.h"

#include <memory>

#include "engine/safetensors.h"
#include "engine/tensor_names.h"
#include "util/error.h"

namespace hearth::engine {

namespace {

std::string shape_text(const std::vector<int64_t>& s) {
  std::string t = "[";
  for (size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + "]";
}

class Loader {
 public:
  Loader(const WeightFiles& files, const ModelConfig& config) : files_(files), config_(config) {}

  [[noreturn]] void fail(const std::string& tensor, const std::string& what) const {
    throw Error(files_.dir().string() + ": tensor '" + tensor + "' " + what, ErrorKind::io);
  }

  // A linear layer `module` ([rows, cols] logical), or `experts` stacked copies of it when experts > 0.
  // Returns one matrix per expert (one matrix when experts == 0).
  std::vector<WeightMatrix> linear(const std::string& module, int64_t rows, int64_t cols, int64_t experts = 0,
                                   const std::string& weight_suffix = ".weight") const {
    const std::string wname = module + weight_suffix;
    const TensorInfo& w = files_.get(wname);
    const TensorInfo* scales = files_.find(module + ".scales");
    std::vector<int64_t> lead;
    if (experts > 0) lead.push_back(experts);
    auto expect_shape = [&](const TensorInfo& t, int64_t last) {
      std::vector<int64_t> want = lead;
      want.push_back(rows);
      want.push_back(last);
      if (t.shape != want) {
        fail(t.name, "has shape " + t.shape_text() + ", expected " + shape_text(want) + " for a " + std::to_string(rows) +
                         "×" + std::to_string(cols) + (experts ? " matrix per expert" : " matrix") +
                         " (shape mismatch with config.json)");
      }
    };
    WeightMatrix m;
    m.rows = rows;
    m.cols = cols;
    if (!scales) {
      if (!w.dtype || (*w.dtype != DType::f32 && *w.dtype != DType::f16 && *w.dtype != DType::bf16)) {
        fail(wname, "has dtype " + w.dtype_text + (w.dtype_text == "U32" ? " but no '" + module + ".scales' (a quantized weight needs its scales)" : ", expected F32, F16 or BF16"));
      }
      expect_shape(w, cols);
      m.format = WeightFormat::dense;
      m.dtype = *w.dtype;
      m.data = w.data;
    } else {
      if (w.dtype_text != "U32") fail(wname, "has dtype " + w.dtype_text + ", expected U32 (packed quantized weight)");
      if (w.shape.size() != lead.size() + 2 || scales->shape.size() != lead.size() + 2) {
        fail(wname, "has shape " + w.shape_text() + " with scales " + scales->shape_text() + ": wrong number of dimensions");
      }
      const int64_t wcols = w.shape.back();
      const int64_t groups = scales->shape.back();
      if (groups <= 0 || cols % groups != 0) {
        fail(module + ".scales", "has " + std::to_string(groups) + " groups per row, which does not divide the input size " +
                                     std::to_string(cols));
      }
      if ((wcols * 32) % cols != 0) {
        fail(wname, "packs " + std::to_string(wcols) + " words per row for " + std::to_string(cols) +
                        " inputs: not a whole number of bits per element (shape mismatch with config.json?)");
      }
      const int bits = static_cast<int>(wcols * 32 / cols);
      const int group = static_cast<int>(cols / groups);
      expect_shape(w, wcols);
      expect_shape(*scales, groups);
      m.bits = bits;
      m.group_size = group;
      m.data = w.data;
      m.scales = scales->data;
      const TensorInfo* biases = files_.find(module + ".biases");
      if (scales->dtype_text == "U8") {
        if (biases) fail(module + ".biases", "exists next to uint8 scales (mxfp4/nvfp4 have no biases)");
        if (group == 32 && bits == 4) m.format = WeightFormat::mxfp4;
        else if (group == 16 && bits == 4) m.format = WeightFormat::nvfp4;
        else if (group == 32 && bits == 8) m.format = WeightFormat::mxfp8;
        else fail(wname, "has uint8 scales with " + std::to_string(bits) + "-bit elements in groups of " + std::to_string(group) + ": not mxfp4, nvfp4 or mxfp8");
        m.dtype = DType::u8;
      } else {
        if (!scales->dtype || (*scales->dtype != DType::bf16 && *scales->dtype != DType::f16 && *scales->dtype != DType::f32)) {
          fail(module + ".scales", "has dtype " + scales->dtype_text + ", expected BF16, F16, F32 (affine) or U8 (mxfp4/nvfp4)");
        }
        if (!biases) fail(module + ".biases", "is missing (affine quantization needs scales and biases)");
        if (biases->dtype_text != scales->dtype_text) fail(module + ".biases", "has dtype " + biases->dtype_text + " but the scales are " + scales->dtype_text);
        expect_shape(*biases, groups);
        if (bits != 2 && bits != 3 && bits != 4 && bits != 5 && bits != 6 && bits != 8) {
          fail(wname, "is " + std::to_string(bits) + "-bit affine, which MLX does not produce (2, 3, 4, 5, 6, 8)");
        }
        if (group != 32 && group != 64 && group != 128) {
          fail(module + ".scales", "gives group size " + std::to_string(group) + " (affine groups are 32, 64 or 128)");
        }
        m.format = WeightFormat::affine;
        m.dtype = *scales->dtype;
        m.biases = biases->data;
      }
    }
    if (experts == 0) return {m};
    std::vector<WeightMatrix> out;
    const size_t data_stride = m.row_bytes() * static_cast<size_t>(rows);
    const size_t scale_stride = m.scales_row_bytes() * static_cast<size_t>(rows);
    for (int64_t e = 0; e < experts; ++e) {
      WeightMatrix x = m;
      x.data = static_cast<const uint8_t*>(m.data) + data_stride * e;
      if (m.scales) x.scales = static_cast<const uint8_t*>(m.scales) + scale_stride * e;
      if (m.biases) x.biases = static_cast<const uint8_t*>(m.biases) + scale_stride * e;
      out.push_back(x);
    }
    return out;
  }

  WeightMatrix matrix(const std::string& module, int64_t rows, int64_t cols) const { return linear(module, rows, cols)[0]; }

  std::vector<float> vector(const std::string& name, int64_t n, float add = 0.0f) const {
    const TensorInfo& t = files_.get(name);
    if (t.numel() != n) fail(name, "has shape " + t.shape_text() + ", expected " + std::to_string(n) + " values");
    return to_floats(t, add);
  }

  std::vector<float> to_floats(const TensorInfo& t, float add) const {
    if (!t.dtype || (*t.dtype != DType::f32 && *t.dtype != DType::f16 && *t.dtype != DType::bf16)) {
      fail(t.name, "has dtype " + t.dtype_text + ", expected F32, F16 or BF16");
    }
    WeightMatrix m;
    m.dtype = *t.dtype;
    m.rows = 1;
    m.cols = t.numel();
    m.data = t.data;
    std::vector<float> v(static_cast<size_t>(m.cols));
    decode_row(m, 0, v.data());
    for (float& x : v) x += add;
    return v;
  }

  // conv1d weight: HF [C, 1, K], MLX [C, K, 1] (same memory order), to [C, K].
  std::vector<float> conv(const std::string& name, int64_t channels, int64_t k) const {
    const TensorInfo& t = files_.get(name);
    std::vector<int64_t> hf = {channels, 1, k}, mlx = {channels, k, 1}, flat = {channels, k};
    if (t.shape != hf && t.shape != mlx && t.shape != flat) {
      fail(name, "has shape " + t.shape_text() + ", expected " + shape_text(hf) + " (Hugging Face) or " + shape_text(mlx) + " (MLX)");
    }
    return to_floats(t, 0.0f);
  }

  bool has(const std::string& name) const { return files_.contains(name); }
  const WeightFiles& files() const { return files_; }

 private:
  const WeightFiles& files_;
  const ModelConfig& config_;
};

// MLX conversions store 1 + w for the zero-centred norms (mlx-lm's sanitize adds 1 when it moves the
// conv1d weight from [C, 1, K] to [C, K, 1]); the conv1d layout is therefore the reliable marker.
bool norms_stored_with_one(const WeightFiles& files, const TensorNames& names, const ModelConfig& c) {
  if (!c.zero_centred_norm) return false;
  for (int64_t i = 0; i < c.num_layers; ++i) {
    if (c.layer_types[static_cast<size_t>(i)] != LayerKind::linear_attention) continue;
    const TensorInfo* t = files.find(names.layer(i) + "linear_attn.conv1d.weight");
    if (t && t->shape.size() == 3) return t->shape[2] == 1 && c.conv_kernel != 1;
  }
  return names.scheme == NamingScheme::mlx;
}

}  // namespace

ModelWeights load_safetensors_weights(const std::filesystem::path& dir, const ModelConfig& c, const LoadProgressFn& progress) {
  auto files = std::make_shared<WeightFiles>(WeightFiles::open_dir(dir));
  if (progress) files->read_all(progress);
  const TensorNames names = detect_tensor_names(*files);
  const Loader L(*files, c);
  const float norm_add = c.zero_centred_norm && !norms_stored_with_one(*files, names, c) ? 1.0f : 0.0f;
  const int64_t H = c.hidden_size;

  ModelWeights w;
  w.storage = files;
  w.embed = L.matrix(names.embed(), c.vocab_size, H);
  if (L.has(names.lm_head + ".weight")) w.lm_head = L.matrix(names.lm_head, c.vocab_size, H);
  else if (c.tie_word_embeddings) w.lm_head = w.embed;
  else files->get(names.lm_head + ".weight");  // throws: missing tensor
  w.final_norm = L.vector(names.final_norm() + ".weight", H, norm_add);

  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string p = names.layer(i);
    LayerWeights lw;
    lw.kind = c.layer_types[static_cast<size_t>(i)];
    lw.input_norm = L.vector(p + "input_layernorm.weight", H, norm_add);
    lw.post_norm = L.vector(p + "post_attention_layernorm.weight", H, norm_add);
    if (lw.kind == LayerKind::full_attention) {
      const std::string a = p + "self_attn.";
      const int64_t qrows = c.num_heads * c.head_dim * (c.attn_output_gate ? 2 : 1);
      lw.attn.q = L.matrix(a + "q_proj", qrows, H);
      lw.attn.k = L.matrix(a + "k_proj", c.num_kv_heads * c.head_dim, H);
      lw.attn.v = L.matrix(a + "v_proj", c.num_kv_heads * c.head_dim, H);
      lw.attn.o = L.matrix(a + "o_proj", H, c.num_heads * c.head_dim);
      lw.attn.q_norm = L.vector(a + "q_norm.weight", c.head_dim, norm_add);
      lw.attn.k_norm = L.vector(a + "k_norm.weight", c.head_dim, norm_add);
    } else {
      const std::string a = p + "linear_attn.";
      const int64_t C = c.linear_conv_channels();
      const int64_t vdim = c.linear_v_heads * c.linear_v_dim;
      lw.linear.qkv = L.matrix(a + "in_proj_qkv", C, H);
      lw.linear.z = L.matrix(a + "in_proj_z", vdim, H);
      lw.linear.b = L.matrix(a + "in_proj_b", c.linear_v_heads, H);
      lw.linear.a = L.matrix(a + "in_proj_a", c.linear_v_heads, H);
      lw.linear.out = L.matrix(a + "out_proj", H, vdim);
      lw.linear.conv = L.conv(a + "conv1d.weight", C, c.conv_kernel);
      lw.linear.a_log = L.vector(a + "A_log", c.linear_v_heads);
      lw.linear.dt_bias = L.vector(a + "dt_bias", c.linear_v_heads);
      lw.linear.norm = L.vector(a + "norm.weight", c.linear_v_dim);
    }
    const std::string m = p + "mlp.";
    lw.is_moe = c.moe_layer[static_cast<size_t>(i)];
    if (!lw.is_moe) {
      lw.mlp.gate = L.matrix(m + "gate_proj", c.intermediate_size, H);
      lw.mlp.up = L.matrix(m + "up_proj", c.intermediate_size, H);
      lw.mlp.down = L.matrix(m + "down_proj", H, c.intermediate_size);
    } else {
      const int64_t E = c.num_experts, I = c.moe_intermediate_size;
      lw.moe.router = L.matrix(m + "gate", E, H);
      if (L.has(m + "switch_mlp.gate_proj.weight")) {  // MLX: stacked, split
        lw.moe.gate.experts = L.linear(m + "switch_mlp.gate_proj", I, H, E);
        lw.moe.up.experts = L.linear(m + "switch_mlp.up_proj", I, H, E);
        lw.moe.down.experts = L.linear(m + "switch_mlp.down_proj", H, I, E);
      } else if (L.has(m + "experts.gate_up_proj")) {  // HF fused [E, 2I, H]; gate is the first half
        auto gate_up = L.linear(m + "experts.gate_up_proj", 2 * I, H, E, "");
        for (const auto& ge : gate_up) {
          lw.moe.gate.experts.push_back(ge.slice_rows(0, I));
          lw.moe.up.experts.push_back(ge.slice_rows(I, I));
        }
        lw.moe.down.experts = L.linear(m + "experts.down_proj", H, I, E, "");
      } else {  // HF per expert
        if (!L.has(m + "experts.0.gate_proj.weight")) {
          throw Error(dir.string() + ": layer " + std::to_string(i) + " has no expert weights (looked for " + m +
                          "switch_mlp.gate_proj.weight, " + m + "experts.gate_up_proj, " + m + "experts.0.gate_proj.weight)",
                      ErrorKind::io);
        }
        for (int64_t e = 0; e < E; ++e) {
          const std::string x = m + "experts." + std::to_string(e) + ".";
          lw.moe.gate.experts.push_back(L.matrix(x + "gate_proj", I, H));
          lw.moe.up.experts.push_back(L.matrix(x + "up_proj", I, H));
          lw.moe.down.experts.push_back(L.matrix(x + "down_proj", H, I));
        }
      }
      if (c.shared_expert_intermediate_size > 0) {
        const int64_t S = c.shared_expert_intermediate_size;
        lw.moe.has_shared = true;
        lw.moe.shared.gate = L.matrix(m + "shared_expert.gate_proj", S, H);
        lw.moe.shared.up = L.matrix(m + "shared_expert.up_proj", S, H);
        lw.moe.shared.down = L.matrix(m + "shared_expert.down_proj", H, S);
        lw.moe.shared_gate = L.matrix(m + "shared_expert_gate", 1, H);
      }
    }
    w.layers.push_back(std::move(lw));
  }
  w.description = "safetensors, " + names.scheme_name() + " names, " +
                  (w.embed.quantized() ? format_name(w.embed.format, w.embed.bits, w.embed.group_size) : dtype_name(w.embed.dtype)) +
                  " embedding";
  return w;
}

}  // namespace hearth::engine
