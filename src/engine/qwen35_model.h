#pragma once
// Qwen3.5/3.6 (dense and MoE) and Qwen3 text models on any backend: the layer sequence — which op
// runs when, on which buffers — written once against engine/ops.h. Every intermediate tensor has a
// name ("blk.3.attn_q", "blk.3.out", ...) and can be observed, so two runs (CPU vs CUDA, hearth vs
// transformers) can be diffed layer by layer.
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/config.h"
#include "engine/kv_pages.h"
#include "engine/load_progress.h"
#include "engine/device_buffer.h"
#include "engine/model.h"
#include "engine/model_weights.h"
#include "engine/ops.h"
#include "engine/qwen35_state.h"

namespace hearth::engine {

// Called with each named intermediate tensor of a forward pass (host copy, rows × cols floats).
using TensorObserver = std::function<void(const std::string& name, const std::vector<float>& data, int64_t rows, int64_t cols)>;

struct Qwen35Options {
  int64_t max_context = 32768;  // positions one sequence can hold
  int64_t max_chunk = 256;      // tokens per forward pass, all slots together; more are split
  int32_t slots = 1;            // sequences held at once
  int64_t kv_page_tokens = 0;   // positions per KV page (rounded up to what the backend's memory allows); 0: auto
  int64_t kv_pool_tokens = 0;   // positions the KV page pool holds in all; 0: (slots + 1) full contexts
  LoadProgressFn progress;      // LoadStage::place_weights as the matrices go to the backend; may be empty
};

class Qwen35Model final : public Model {
 public:
  Qwen35Model(ModelConfig config, ModelWeights weights, std::unique_ptr<Ops> ops, const Qwen35Options& options);
  ~Qwen35Model() override;

  const ModelInfo& info() const override { return info_; }
  void reset_slot(SlotId slot) override;
  // Entries are run together: one pass of at most max_chunk tokens embeds, projects and runs the MLPs
  // of every entry's rows at once, and runs each entry's attention / DeltaNet mixer on its own rows
  // with its own slot's state. A pass of single tokens on a recording backend is a replayed graph.
  void forward(std::span<const SlotTokens> batch) override;
  std::span<const float> slot_logits(SlotId slot) const override { return at(slot).host_logits(); }
  std::vector<TokenLogit> slot_top_logits(SlotId slot, int32_t k, int64_t limit) const override;
  int64_t slot_position(SlotId slot) const override { return at(slot).position; }
  // Rows before the last live in a per-model buffer (row_logits_), not in the slot's state: snapshots
  // keep the last logits only.
  std::span<const float> slot_row_logits(SlotId slot, int32_t row) const override;
  std::vector<TokenLogit> slot_row_top_logits(SlotId slot, int32_t row, int32_t k, int64_t limit) const override;
  // A snapshot shares the slot's KV pages and copies the recurrent state (qwen35_state.h).
  std::unique_ptr<StateSnapshot> save_slot(SlotId slot) const override;
  void restore_slot(SlotId slot, const StateSnapshot& snapshot) override;
  // A host copy holding every float (the KV rows out of the pages), or nullptr for a snapshot that is
  // a host copy already or lives in host memory anyway (the CPU backend). Every snapshot must be destroyed before this model.
  std::unique_ptr<StateSnapshot> offload_state(const StateSnapshot& snapshot) const override;
  void serialize_state(const StateSnapshot& snapshot, std::ostream& out) const override;
  std::unique_ptr<StateSnapshot> deserialize_state(std::istream& in) const override;
  bool holds_pages(const StateSnapshot& snapshot) const override;
  void set_page_reclaimer(std::function<bool()> reclaim) override { pool_->set_reclaimer(std::move(reclaim)); }
  size_t snapshot_host_page_bytes() const override;

  const KvPagePool& kv_pool() const { return *pool_; }
  const SequenceState& slot_state(SlotId slot) const { return at(slot); }

  void set_observer(TensorObserver observer) { observer_ = std::move(observer); }
  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }  // as placed in the backend (benchmarks count bytes)
  Ops& ops() { return *ops_; }

 private:
  struct LayerVectors;
  // One entry's share of a pass: `tokens` of `slot`, at rows [row, row + tokens.size()) of the pass.
  struct Piece {
    SlotId slot = 0;
    std::span<const Token> tokens;
    int64_t row = 0;
    // Of an entry that asked for several logits rows: how many of the piece's last rows need them, and
    // the first one's index among the entry's logits rows. 0: only the last row's (slot_logits).
    int64_t logit_rows = 0;
    int64_t logit_offset = 0;
    int64_t rows() const { return static_cast<int64_t>(tokens.size()); }
    int64_t head_rows() const { return std::max<int64_t>(1, logit_rows); }
  };
  struct RecordedStep;
  SequenceState& at(SlotId slot) const;
  void run_pass(std::span<const Piece> pieces);
  // The layer stack and the head over the n rows embedded in x_; the head writes head_rows() logits
  // rows per piece into head_target() and they go to the slots.
  void run_layers(std::span<const Piece> pieces, int64_t n);
  // logits_dev_ when the pass needs one row per piece (every decode step), else the multi-row buffer.
  Tensor head_target(std::span<const Piece> pieces);
  const float* row_logits_ptr(SlotId slot, int32_t row) const;
  // Unfused: every named intermediate tensor exists and is observed (the path taken with an observer;
  // one piece per pass).
  void run_layers_unfused(const Piece& piece, int64_t n);
  // Fused (ops.h fused ops, the path without an observer): the same computation in fewer ops; on the
  // CPU reference it gives the same bits as the unfused path.
  void run_layers_fused(std::span<const Piece> pieces, int64_t n);
  void full_attention_fused(int64_t layer, std::span<const Piece> pieces, int64_t n);
  void linear_attention_fused(int64_t layer, std::span<const Piece> pieces, int64_t n);
  void mlp_fused(int64_t layer, int64_t n);
  // The position of piece `index` as ops read it: from position_dev_ while a step is recorded.
  const int64_t* position_ptr(size_t index) const { return positions_ptr_ ? positions_ptr_ + index : nullptr; }
  MatmulJobsArgs normed_jobs(const Tensor& rows, const float* norm) const;
  void full_attention(int64_t layer, SequenceState& state, const Tensor& h, const Tensor& out);
  void linear_attention(int64_t layer, SequenceState& state, const Tensor& h, const Tensor& out);
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
  std::unique_ptr<KvPagePool> pool_;
  std::vector<std::unique_ptr<SequenceState>> slots_;
  TensorObserver observer_;

  // Decode steps (one token per slot) on a backend that records (CUDA graphs): the layers and the head
  // of a set of slots are recorded once, after one eager step has built every lazily made buffer, and
  // replayed for every later step of that set; positions are read from position_dev_, so one
  // recording serves all positions. Each slot's state and KV range stay at fixed addresses.
  DeviceBuffer position_dev_;                  // int64 per piece
  const int64_t* positions_ptr_ = nullptr;    // position_dev_ while recording, else null
  std::map<std::vector<SlotId>, RecordedStep> recorded_;

  // Scratch, sized for options_.max_chunk rows.
  int64_t wide_ = 0;
  DeviceBuffer x_, h_, out_, out2_, a_, b_, c_, d_, g_, beta_, ga_, gb_, route_w_, route_i_, row_gate_;
  DeviceBuffer logits_dev_;  // [slots, vocab]: one row per piece of a pass
  // Several logits rows per entry (verification), made on first use: the head's rows of a pass, and
  // per slot its entry's rows [slot · kMaxLogitRows + i].
  DeviceBuffer head_rows_dev_, row_logits_;
  std::vector<int32_t> logit_rows_;           // per slot: the logits rows of its last entry
  mutable std::vector<float> row_host_;       // slot_row_logits' host copy
  DeviceBuffer k_new_, v_new_;  // the new tokens' keys and values before they are written to the cache
};

}  // namespace hearth::engine
