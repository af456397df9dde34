#pragma once
// Per-sequence state of a Qwen3.5/3.6 model, in the backend's memory: the KV cache of each full
// attention layer (float32, planned for max_context positions) and the conv + recurrent state of
// each linear attention layer. A snapshot is an exact host copy of the part in use (KV rows up to
// the position, all linear state) plus the last logits, so restoring it continues bit-identically.
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <vector>

#include "engine/config.h"
#include "engine/device_buffer.h"
#include "engine/model.h"

namespace hearth::engine {

class SequenceState {
 public:
  SequenceState(Ops& ops, const ModelConfig& config, int64_t capacity);

  void reset();  // position 0, linear state zeroed
  int64_t position = 0;
  int64_t capacity() const { return capacity_; }

  // By layer index (-1 for layers of the other kind).
  Tensor k_cache(int64_t layer) const;
  Tensor v_cache(int64_t layer) const;
  float* conv_state(int64_t layer) const;       // [(K-1), channels]
  float* recurrent_state(int64_t layer) const;  // [v_heads, dk, dv]

  size_t kv_row_floats() const { return static_cast<size_t>(kv_width_); }
  size_t conv_floats() const { return conv_floats_; }
  size_t recurrent_floats() const { return recurrent_floats_; }
  int64_t full_layers() const { return static_cast<int64_t>(k_.size()); }
  int64_t linear_layers() const { return static_cast<int64_t>(conv_.size()); }

 private:
  friend class Qwen35Snapshot;
  Ops& ops_;
  int64_t capacity_;
  int64_t kv_width_;
  size_t conv_floats_, recurrent_floats_;
  std::vector<int64_t> slot_;  // layer → index into k_/v_ or conv_/rec_
  std::vector<DeviceBuffer> k_, v_, conv_, rec_;
};

class Qwen35Snapshot final : public StateSnapshot {
 public:
  // Copies `state` (and the current logits) to host memory.
  Qwen35Snapshot(const void* owner, const SequenceState& state, Ops& ops, const std::vector<float>& logits);
  Qwen35Snapshot() = default;
  int64_t position() const override { return position_; }
  size_t device_bytes() const override { return 0; }
  size_t host_bytes() const override;

  // Writes the snapshot back into `state` and `logits`.
  void restore_into(SequenceState& state, Ops& ops, std::vector<float>& logits) const;
  const void* owner() const { return owner_; }
  // Every float of the snapshot in a fixed order (KV, conv, recurrent, logits): for comparing states.
  std::vector<float> flat() const;

  void write(std::ostream& out) const;
  static std::unique_ptr<Qwen35Snapshot> read(std::istream& in, const void* owner);

 private:
  const void* owner_ = nullptr;
  int64_t position_ = 0;
  std::vector<std::vector<float>> k_, v_, conv_, rec_;
  std::vector<float> logits_;
};

}  // namespace hearth::engine
