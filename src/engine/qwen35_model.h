#pragma once
// Qwen3.5/3.6 (dense and MoE) and Qwen3 text models on any backend: the layer sequence — which op
// runs when, on which buffers — written once against engine/ops.h. Every intermediate tensor has a
// name ("blk.3.attn_q", "blk.3.out", ...) and can be observed, so two runs (CPU vs CUDA, hearth vs
// transformers) can be diffed layer by layer.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/config.h"
#include "engine/device_buffer.h"
#include "engine/model.h"
#include "engine/model_weights.h"
#include "engine/ops.h"
#include "engine/qwen35_state.h"

namespace hearth::engine {

// Called with each named intermediate tensor of a forward pass (host copy, rows × cols floats).
using TensorObserver = std::function<void(const std::string& name, const std::vector<float>& data, int64_t rows, int64_t cols)>;

struct Qwen35Options {
  int64_t max_context = 32768;
  int64_t max_chunk = 256;  // tokens per forward pass; longer prefills are split
};

class Qwen35Model final : public Model {
 public:
  Qwen35Model(ModelConfig config, ModelWeights weights, std::unique_ptr<Ops> ops, const Qwen35Options& options);
  ~Qwen35Model() override;

  const ModelInfo& info() const override { return info_; }
  void reset() override;
  void prefill(std::span<const Token> tokens) override;
  std::span<const float> logits() const override { return logits_; }
  int64_t position() const override { return state_.position; }
  std::unique_ptr<StateSnapshot> save_state() const override;
  void restore_state(const StateSnapshot& snapshot) override;
  // On a device backend snapshots live in device memory (device_bytes()); offload_state() makes the
  // host copy, and returns nullptr for a snapshot already on the host. Every snapshot must be
  // destroyed before this model (a device snapshot releases memory of the model's Ops).
  std::unique_ptr<StateSnapshot> offload_state(const StateSnapshot& snapshot) const override;
  void serialize_state(const StateSnapshot& snapshot, std::ostream& out) const override;
  std::unique_ptr<StateSnapshot> deserialize_state(std::istream& in) const override;

  void set_observer(TensorObserver observer) { observer_ = std::move(observer); }
  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }  // as placed in the backend (benchmarks count bytes)
  Ops& ops() { return *ops_; }

 private:
  struct LayerVectors;
  void forward(std::span<const Token> tokens);
  void run_layers(int64_t n);  // the layer stack and the head over the n tokens embedded in x_
  // Unfused: every named intermediate tensor exists and is observed (the path taken with an observer).
  void run_layers_unfused(int64_t n);
  // Fused (ops.h fused ops, the path without an observer): the same computation in fewer ops; on the
  // CPU reference it gives the same bits as the unfused path.
  void run_layers_fused(int64_t n);
  void full_attention_fused(int64_t layer, int64_t n);
  void linear_attention_fused(int64_t layer, int64_t n);
  void mlp_fused(int64_t layer, int64_t n);
  MatmulJobsArgs normed_jobs(const Tensor& rows, const float* norm) const;
  void full_attention(int64_t layer, const Tensor& h, const Tensor& out);
  void linear_attention(int64_t layer, const Tensor& h, const Tensor& out);
  void dense_mlp(int64_t layer, const Tensor& h, const Tensor& out);
  void moe_mlp(int64_t layer, const Tensor& h, const Tensor& out);
  void observe(const std::string& name, const Tensor& t);
  // `snapshot` as a Qwen35Snapshot made by this model; throws hearth::Error naming `what` otherwise.
  const Qwen35Snapshot& own_snapshot(const StateSnapshot& snapshot, const char* what) const;
  std::string blk(int64_t layer, const char* what) const { return "blk." + std::to_string(layer) + "." + what; }

  ModelConfig config_;
  ModelWeights weights_;  // matrices placed in the backend's memory
  std::unique_ptr<Ops> ops_;
  Qwen35Options options_;
  ModelInfo info_;
  std::vector<LayerVectors> vectors_;
  DeviceBuffer final_norm_;
  SequenceState state_;
  std::vector<float> logits_;
  TensorObserver observer_;

  // Decode steps (one token) on a backend that records (CUDA graphs): the layers and the head are
  // recorded once, after one eager step has built every lazily made buffer, and replayed for every
  // later step; the position is read from position_dev_, so one recording serves all positions.
  DeviceBuffer position_dev_;
  const int64_t* position_ptr_ = nullptr;  // position_dev_ while recording, else null
  std::unique_ptr<RecordedOps> decode_step_;
  int64_t eager_decode_steps_ = 0;

  // Scratch, sized for options_.max_chunk rows.
  int64_t wide_ = 0;
  DeviceBuffer x_, h_, out_, out2_, a_, b_, c_, d_, g_, beta_, ga_, gb_, route_w_, route_i_, row_gate_, logits_dev_;
  DeviceBuffer k_new_, v_new_;  // the new tokens' keys and values before they are written to the cache
};

}  // namespace hearth::engine
