#pragma once
// A stand-in for a GPU backend in CPU-only tests: the CPU backend's arithmetic, but it reports its
// memory as device memory (Ops::memory_is_host() false), so the model takes its device paths, and it
// counts the memory traffic that a real device would pay for (alloc, host<->device, device copies).
// Plus the tiny-model helpers the state tests share.
#include <cstddef>
#include <cstdint>
#include <span>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/config.h"
#include "engine/cpu/cpu_ops.h"
#include "engine/qwen35_model.h"
#include "engine/weight_loader.h"
#include "util/error.h"
#include "reference_data.h"

namespace hearth::engine::testing {

struct MemoryTraffic {
  int64_t allocs = 0, releases = 0;
  int64_t uploads = 0, downloads = 0, copies = 0;
  size_t upload_bytes = 0, download_bytes = 0, copy_bytes = 0;
};

class FakeDeviceOps final : public cpu::CpuOps {
 public:
  FakeDeviceOps() : CpuOps(2) {}
  std::string_view name() const override { return "fake-device"; }
  bool memory_is_host() const override { return false; }

  void* alloc(size_t bytes) override {
    if (live_bytes_ + bytes > capacity) throw Error("fake device: out of memory", ErrorKind::unsupported);
    void* p = CpuOps::alloc(bytes);
    ++traffic.allocs;
    live_[p] = bytes;
    live_bytes_ += bytes;
    return p;
  }
  void release(void* ptr) override {
    if (auto it = live_.find(ptr); it != live_.end()) {
      live_bytes_ -= it->second;
      live_.erase(it);
      ++traffic.releases;
    }
    CpuOps::release(ptr);
  }
  void upload(void* dst, const void* src, size_t bytes) override {
    ++traffic.uploads;
    traffic.upload_bytes += bytes;
    CpuOps::upload(dst, src, bytes);
  }
  void download(void* dst, const void* src, size_t bytes) override {
    ++traffic.downloads;
    traffic.download_bytes += bytes;
    CpuOps::download(dst, src, bytes);
  }
  void copy(void* dst, const void* src, size_t bytes) override {
    ++traffic.copies;
    traffic.copy_bytes += bytes;
    CpuOps::copy(dst, src, bytes);
  }

  size_t live_bytes() const { return live_bytes_; }  // alloc()ed and not yet released

  MemoryTraffic traffic;
  size_t capacity = SIZE_MAX;  // alloc() beyond this many live bytes fails, as a full GPU's would

 private:
  std::unordered_map<void*, size_t> live_;
  size_t live_bytes_ = 0;
};

// A tiny model (testdata/tiny/<name>) on the given backend. KV pages of 32 positions on every backend,
// so that sequences span several pages and backends page alike.
inline std::unique_ptr<Qwen35Model> tiny_model_on(const std::string& name, std::unique_ptr<Ops> ops,
                                                  int64_t max_context = 256) {
  const auto dir = tiny_model_dir(name);
  ModelConfig config = load_model_config(dir);
  ModelWeights weights = load_safetensors_weights(dir, config);
  Qwen35Options options;
  options.max_context = max_context;
  options.kv_page_tokens = 32;
  return std::make_unique<Qwen35Model>(std::move(config), std::move(weights), std::move(ops), options);
}

struct FakeDeviceModel {
  std::unique_ptr<Qwen35Model> model;
  FakeDeviceOps* ops = nullptr;  // owned by the model
};

inline FakeDeviceModel tiny_model_on_fake_device(const std::string& name, int64_t max_context = 256) {
  auto ops = std::make_unique<FakeDeviceOps>();
  FakeDeviceOps* raw = ops.get();
  return {tiny_model_on(name, std::move(ops), max_context), raw};
}

// The snapshot size worked out from the model's shapes: K and V rows [0, position) of each full
// attention layer, the conv and recurrent state of each linear layer, the logits.
inline size_t expected_snapshot_bytes(const ModelConfig& c, int64_t position) {
  size_t floats = static_cast<size_t>(c.vocab_size);
  for (LayerKind kind : c.layer_types) {
    if (kind == LayerKind::full_attention) {
      floats += 2 * static_cast<size_t>(position * c.num_kv_heads * c.head_dim);
    } else {
      floats += static_cast<size_t>((c.conv_kernel - 1) * c.linear_conv_channels() +
                                    c.linear_v_heads * c.linear_k_dim * c.linear_v_dim);
    }
  }
  return floats * sizeof(float);
}

inline std::vector<float> logits_of(const Model& m) { return {m.logits().begin(), m.logits().end()}; }

// Feeds `tokens` one at a time; the logits after each.
inline std::vector<std::vector<float>> decode_each(Model& m, std::span<const Token> tokens) {
  std::vector<std::vector<float>> out;
  for (Token t : tokens) {
    m.prefill(std::span(&t, 1));
    out.push_back(logits_of(m));
  }
  return out;
}

}  // namespace hearth::engine::testing
