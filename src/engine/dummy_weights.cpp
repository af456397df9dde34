#include "engine/dummy_weights.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>

#include "util/error.h"

namespace hearth::engine {

namespace {

constexpr size_t kMaxPool = 64u << 20;
constexpr size_t kMinPool = 1u << 20;

struct SplitMix {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  float uniform() { return static_cast<float>(next() >> 40) / static_cast<float>(1ull << 24); }  // [0, 1)
};

// What a pool holds; affine scale pools also depend on the bit width (scale ≈ range / (2^bits − 1)).
enum class PoolKind { codes, bf16_values, affine_scales, affine_biases, e8m0_scales, e4m3_scales };

class DummyArena {
 public:
  explicit DummyArena(uint64_t seed) : rng_{seed}, page_(static_cast<size_t>(sysconf(_SC_PAGESIZE))) {}
  ~DummyArena() {
    for (auto& [p, n] : regions_) munmap(p, n);
    for (auto& [key, pool] : pools_) {
      munmap(pool.base, pool.size);
      close(pool.fd);
    }
  }

  const void* bytes(PoolKind kind, int bits, size_t n) {
    if (n == 0) return nullptr;
    Pool& pool = get_pool(kind, bits, n);
    if (n <= pool.size) {
      // Vary the start so that different matrices do not all see the same bytes.
      const size_t slack = (pool.size - n) / page_;
      const size_t offset = slack ? (rng_.next() % (slack + 1)) * page_ : 0;
      return static_cast<const uint8_t*>(pool.base) + offset;
    }
    const size_t total = (n + page_ - 1) / page_ * page_;
    void* region = mmap(nullptr, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (region == MAP_FAILED) throw Error("dummy weights: cannot reserve " + std::to_string(total) + " bytes of address space");
    regions_.push_back({region, total});
    for (size_t off = 0; off < total; off += pool.size) {
      const size_t len = std::min(pool.size, total - off);
      void* p = mmap(static_cast<uint8_t*>(region) + off, len, PROT_READ, MAP_SHARED | MAP_FIXED, pool.fd, 0);
      if (p == MAP_FAILED) throw Error("dummy weights: cannot map the weight pool (" + std::string(std::strerror(errno)) + ")");
    }
    return region;
  }

 private:
  struct Pool {
    int fd = -1;
    void* base = nullptr;
    size_t size = 0;
  };

  Pool& get_pool(PoolKind kind, int bits, size_t first_request) {
    const int key = static_cast<int>(kind) * 16 + (kind == PoolKind::affine_scales ? bits : 0);
    auto it = pools_.find(key);
    if (it != pools_.end()) return it->second;
    Pool pool;
    pool.size = std::clamp((first_request + page_ - 1) / page_ * page_, kMinPool, kMaxPool);
    pool.fd = memfd_create("hearth-dummy-weights", MFD_CLOEXEC);
    if (pool.fd < 0 || ftruncate(pool.fd, static_cast<off_t>(pool.size)) != 0) {
      throw Error("dummy weights: cannot create the weight pool (" + std::string(std::strerror(errno)) + ")");
    }
    pool.base = mmap(nullptr, pool.size, PROT_READ | PROT_WRITE, MAP_SHARED, pool.fd, 0);
    if (pool.base == MAP_FAILED) throw Error("dummy weights: cannot map the weight pool");
    fill(pool, kind, bits);
    return pools_.emplace(key, pool).first->second;
  }

  void fill(Pool& pool, PoolKind kind, int bits) {
    auto* u8 = static_cast<uint8_t*>(pool.base);
    auto* u16 = static_cast<uint16_t*>(pool.base);
    const size_t n8 = pool.size, n16 = pool.size / 2;
    switch (kind) {
      case PoolKind::codes:
        for (size_t i = 0; i + 8 <= n8; i += 8) {
          uint64_t v = rng_.next();
          std::memcpy(u8 + i, &v, 8);
        }
        break;
      case PoolKind::bf16_values:  // uniform with standard deviation 0.02 (transformers' initializer_range)
        for (size_t i = 0; i < n16; ++i) u16[i] = f32_to_bf16((rng_.uniform() * 2 - 1) * 0.02f * std::sqrt(3.0f));
        break;
      case PoolKind::affine_scales: {  // weights spanning about ±0.03 whatever the bit width
        const float step = 0.06f / static_cast<float>((1 << bits) - 1);
        for (size_t i = 0; i < n16; ++i) u16[i] = f32_to_bf16(step * (0.75f + 0.5f * rng_.uniform()));
        break;
      }
      case PoolKind::affine_biases:
        for (size_t i = 0; i < n16; ++i) u16[i] = f32_to_bf16(-0.03f + 0.004f * (rng_.uniform() - 0.5f));
        break;
      case PoolKind::e8m0_scales:  // 2^-9 .. 2^-6
        for (size_t i = 0; i < n8; ++i) u8[i] = static_cast<uint8_t>(118 + rng_.next() % 4);
        break;
      case PoolKind::e4m3_scales:  // exponent field 1: 2^-6 · (1 + m/8)
        for (size_t i = 0; i < n8; ++i) u8[i] = static_cast<uint8_t>(0x08 + rng_.next() % 8);
        break;
    }
  }

  SplitMix rng_;
  size_t page_;
  std::map<int, Pool> pools_;
  std::vector<std::pair<void*, size_t>> regions_;
};

// How one module is stored, following the config's quantization and MLX's rules.
struct Choice {
  WeightFormat format = WeightFormat::dense;
  int bits = 0;
  int group = 0;
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

class DummyBuilder {
 public:
  DummyBuilder(const ModelConfig& c, uint64_t seed) : c_(c), arena_(std::make_shared<DummyArena>(seed)), rng_{seed ^ 0x5eedull} {}

  // `module` is the path below the layers prefix, e.g. "layers.3.mlp.gate" or "embed_tokens".
  Choice choose(const std::string& module, int64_t cols) const {
    const QuantizationConfig& q = c_.quantization;
    if (!q.present) return {};
    std::optional<QuantSetting> setting = q.global;
    bool overridden = false;
    for (const auto& [key, value] : q.overrides) {
      if (key == module || ends_with(key, "." + module)) {
        setting = value;
        overridden = true;
      }
    }
    // mlx-lm quantizes Qwen3.5-MoE routers and shared-expert gates at 8 bits, group 64.
    if (!overridden && c_.architecture == Architecture::qwen3_5_moe && (ends_with(module, "mlp.gate") || ends_with(module, "shared_expert_gate"))) {
      setting = QuantSetting{"affine", 8, 64};
    }
    if (!setting) return {};
    if (cols % setting->group_size != 0) return {};
    if (setting->mode == "mxfp4") return {WeightFormat::mxfp4, 4, 32};
    if (setting->mode == "nvfp4") return {WeightFormat::nvfp4, 4, 16};
    if (setting->mode == "mxfp8") return {WeightFormat::mxfp8, 8, 32};
    return {WeightFormat::affine, setting->bits, setting->group_size};
  }

  // `count` stacked matrices (count 0: a single matrix).
  std::vector<WeightMatrix> matrices(const std::string& module, int64_t rows, int64_t cols, int64_t count = 0) {
    const Choice ch = choose(module, cols);
    WeightMatrix m;
    m.format = ch.format;
    m.rows = rows;
    m.cols = cols;
    m.bits = ch.bits;
    m.group_size = ch.group;
    m.dtype = ch.format == WeightFormat::dense || ch.format == WeightFormat::affine ? DType::bf16 : DType::u8;
    const size_t copies = static_cast<size_t>(std::max<int64_t>(1, count));
    const size_t data = m.data_bytes(), scales = m.scales_row_bytes() * static_cast<size_t>(rows);
    const auto* base = static_cast<const uint8_t*>(
        arena_->bytes(ch.format == WeightFormat::dense ? PoolKind::bf16_values : PoolKind::codes, ch.bits, data * copies));
    const uint8_t *sbase = nullptr, *bbase = nullptr;
    if (ch.format == WeightFormat::affine) {
      sbase = static_cast<const uint8_t*>(arena_->bytes(PoolKind::affine_scales, ch.bits, scales * copies));
      bbase = static_cast<const uint8_t*>(arena_->bytes(PoolKind::affine_biases, 0, scales * copies));
    } else if (ch.format != WeightFormat::dense) {
      const PoolKind k = ch.format == WeightFormat::nvfp4 ? PoolKind::e4m3_scales : PoolKind::e8m0_scales;
      sbase = static_cast<const uint8_t*>(arena_->bytes(k, 0, scales * copies));
    }
    std::vector<WeightMatrix> out;
    for (size_t e = 0; e < copies; ++e) {
      WeightMatrix x = m;
      x.data = base + data * e;
      if (sbase) x.scales = sbase + scales * e;
      if (bbase) x.biases = bbase + scales * e;
      out.push_back(x);
    }
    return out;
  }
  WeightMatrix matrix(const std::string& module, int64_t rows, int64_t cols) { return matrices(module, rows, cols)[0]; }

  std::vector<float> constant(int64_t n, float v) { return std::vector<float>(static_cast<size_t>(n), v); }
  std::vector<float> uniform(int64_t n, float lo, float hi) {
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = lo + (hi - lo) * rng_.uniform();
    return v;
  }
  std::shared_ptr<DummyArena> arena() const { return arena_; }

 private:
  const ModelConfig& c_;
  std::shared_ptr<DummyArena> arena_;
  SplitMix rng_;
};

}  // namespace

ModelWeights make_dummy_weights(const ModelConfig& c, uint64_t seed) {
  DummyBuilder b(c, seed);
  const int64_t H = c.hidden_size;
  ModelWeights w;
  w.storage = b.arena();
  w.embed = b.matrix("embed_tokens", c.vocab_size, H);
  w.lm_head = c.tie_word_embeddings ? w.embed : b.matrix("lm_head", c.vocab_size, H);
  w.final_norm = b.constant(H, 1.0f);
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string p = "layers." + std::to_string(i) + ".";
    LayerWeights lw;
    lw.kind = c.layer_types[static_cast<size_t>(i)];
    lw.input_norm = b.constant(H, 1.0f);
    lw.post_norm = b.constant(H, 1.0f);
    if (lw.kind == LayerKind::full_attention) {
      lw.attn.q = b.matrix(p + "self_attn.q_proj", c.num_heads * c.head_dim * (c.attn_output_gate ? 2 : 1), H);
      lw.attn.k = b.matrix(p + "self_attn.k_proj", c.num_kv_heads * c.head_dim, H);
      lw.attn.v = b.matrix(p + "self_attn.v_proj", c.num_kv_heads * c.head_dim, H);
      lw.attn.o = b.matrix(p + "self_attn.o_proj", H, c.num_heads * c.head_dim);
      lw.attn.q_norm = b.constant(c.head_dim, 1.0f);
      lw.attn.k_norm = b.constant(c.head_dim, 1.0f);
    } else {
      const int64_t C = c.linear_conv_channels(), vd = c.linear_v_heads * c.linear_v_dim;
      lw.linear.qkv = b.matrix(p + "linear_attn.in_proj_qkv", C, H);
      lw.linear.z = b.matrix(p + "linear_attn.in_proj_z", vd, H);
      lw.linear.b = b.matrix(p + "linear_attn.in_proj_b", c.linear_v_heads, H);
      lw.linear.a = b.matrix(p + "linear_attn.in_proj_a", c.linear_v_heads, H);
      lw.linear.out = b.matrix(p + "linear_attn.out_proj", H, vd);
      lw.linear.conv = b.uniform(C * c.conv_kernel, -0.5f, 0.5f);
      lw.linear.a_log = b.uniform(c.linear_v_heads, 0.0f, 2.7f);  // log of 1 .. 15
      lw.linear.dt_bias = b.constant(c.linear_v_heads, 1.0f);
      lw.linear.norm = b.constant(c.linear_v_dim, 1.0f);
    }
    lw.is_moe = c.moe_layer[static_cast<size_t>(i)];
    if (!lw.is_moe) {
      lw.mlp.gate = b.matrix(p + "mlp.gate_proj", c.intermediate_size, H);
      lw.mlp.up = b.matrix(p + "mlp.up_proj", c.intermediate_size, H);
      lw.mlp.down = b.matrix(p + "mlp.down_proj", H, c.intermediate_size);
    } else {
      const int64_t E = c.num_experts, I = c.moe_intermediate_size;
      lw.moe.router = b.matrix(p + "mlp.gate", E, H);
      lw.moe.gate.experts = b.matrices(p + "mlp.switch_mlp.gate_proj", I, H, E);
      lw.moe.up.experts = b.matrices(p + "mlp.switch_mlp.up_proj", I, H, E);
      lw.moe.down.experts = b.matrices(p + "mlp.switch_mlp.down_proj", H, I, E);
      if (c.shared_expert_intermediate_size > 0) {
        const int64_t S = c.shared_expert_intermediate_size;
        lw.moe.has_shared = true;
        lw.moe.shared.gate = b.matrix(p + "mlp.shared_expert.gate_proj", S, H);
        lw.moe.shared.up = b.matrix(p + "mlp.shared_expert.up_proj", S, H);
        lw.moe.shared.down = b.matrix(p + "mlp.shared_expert.down_proj", H, S);
        lw.moe.shared_gate = b.matrix(p + "mlp.shared_expert_gate", 1, H);
      }
    }
    w.layers.push_back(std::move(lw));
  }
  w.description = "dummy (random, seed " + std::to_string(seed) + ")";
  return w;
}

}  // namespace hearth::engine
