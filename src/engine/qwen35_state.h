#pragma once
// Per-sequence state of a Qwen3.5/3.6 model, in the backend's memory: the KV cache of each full
// attention layer (float32, planned for max_context positions) and the conv + recurrent state of
// each linear attention layer.
//
// A snapshot is an exact copy of the part in use (KV rows [0, position), all linear state) plus the
// last logits, so restoring it continues bit-identically. It lives either in host memory or, on a
// device backend (Ops::memory_is_host() false), in the backend's own memory: saving and restoring
// are then device-to-device copies, with nothing crossing the bus on the way to the first token.
// Lifetime: a device snapshot holds memory of the Ops it was made with and releases it when it is
// destroyed, so it must be destroyed before those Ops (before the model that made it).
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "engine/config.h"
#include "engine/device_buffer.h"
#include "engine/model.h"

namespace hearth::engine {

// Sizes (in floats) of a snapshot's parts, stored one after another in this order (the order of the
// serialised form): K then V of each full-attention layer (rows [0, position)), conv then recurrent
// state of each linear-attention layer, the logits.
struct SnapshotLayout {
  int64_t full_layers = 0;
  int64_t linear_layers = 0;
  size_t kv_floats = 0;  // one layer's K (or V): position × kv width
  size_t conv_floats = 0;
  size_t recurrent_floats = 0;
  size_t logits_floats = 0;

  size_t k_offset(int64_t layer) const { return 2 * static_cast<size_t>(layer) * kv_floats; }
  size_t v_offset(int64_t layer) const { return k_offset(layer) + kv_floats; }
  size_t conv_offset(int64_t layer) const {
    return k_offset(full_layers) + static_cast<size_t>(layer) * (conv_floats + recurrent_floats);
  }
  size_t recurrent_offset(int64_t layer) const { return conv_offset(layer) + conv_floats; }
  size_t logits_offset() const { return conv_offset(linear_layers); }
  size_t total_floats() const { return logits_offset() + logits_floats; }
  bool operator==(const SnapshotLayout&) const = default;
};

class SequenceState {
 public:
  SequenceState(Ops& ops, const ModelConfig& config, int64_t capacity);

  void reset();  // position 0, linear state zeroed
  int64_t position = 0;
  int64_t capacity() const { return capacity_; }
  Ops& ops() const { return ops_; }

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
  // The layout of a snapshot of this state at `position` with `logits_floats` logits.
  SnapshotLayout snapshot_layout(int64_t position, size_t logits_floats) const;

 private:
  friend class Qwen35Snapshot;
  Ops& ops_;
  int64_t capacity_;
  int64_t kv_width_;
  size_t conv_floats_, recurrent_floats_;
  std::vector<int64_t> slot_;  // layer → index into k_/v_ or conv_/rec_
  std::vector<DeviceBuffer> k_, v_, conv_, rec_;
};

enum class SnapshotMemory { host, device };

// A float vector whose resize() leaves new elements uninitialised: host snapshots are written in full
// right after they are sized (a 1.6 GB offload should not be zeroed first).
template <class T>
struct UninitializedAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = UninitializedAllocator<U>;
  };
  UninitializedAllocator() = default;
  template <class U>
  UninitializedAllocator(const UninitializedAllocator<U>&) noexcept {}
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};
using HostFloats = std::vector<float, UninitializedAllocator<float>>;

// What a snapshot is taken of: the model's live sequence.
struct SnapshotSource {
  const void* owner = nullptr;  // the model; only it restores the snapshot
  const SequenceState* state = nullptr;
  std::span<const float> logits;          // the last logits, host copy
  const float* device_logits = nullptr;   // the same logits in the backend's memory
  SnapshotMemory memory = SnapshotMemory::host;
};

// Where a snapshot is restored to. Both copies of the logits are written.
struct SnapshotTarget {
  SequenceState* state = nullptr;
  std::vector<float>* logits = nullptr;   // must already have the snapshot's logits size
  float* device_logits = nullptr;
};

class Qwen35Snapshot final : public StateSnapshot {
 public:
  // Copies the source into host memory (downloads) or into new backend memory (device copies only;
  // host memory after all when the backend cannot allocate the snapshot).
  static std::unique_ptr<Qwen35Snapshot> save(const SnapshotSource& source);
  // Reads what write() wrote; the result is a host snapshot owned by `owner`. Sizes are checked
  // against the model only when it is restored.
  static std::unique_ptr<Qwen35Snapshot> read(std::istream& in, const void* owner);

  int64_t position() const override { return position_; }
  size_t device_bytes() const override { return memory_ == SnapshotMemory::device ? bytes() : 0; }
  size_t host_bytes() const override { return memory_ == SnapshotMemory::host ? bytes() : 0; }
  SnapshotMemory memory() const { return memory_; }
  const SnapshotLayout& layout() const { return layout_; }
  const void* owner() const { return owner_; }

  // A host-memory copy (one download of a device snapshot).
  std::unique_ptr<Qwen35Snapshot> to_host() const;
  // Writes the snapshot back into the target; throws hearth::Error, leaving the target untouched, when
  // the snapshot's sizes do not match it.
  void restore_into(const SnapshotTarget& target) const;
  // Every float of the snapshot in layout order (downloaded when on the device): for comparing states.
  std::vector<float> flat() const;
  void write(std::ostream& out) const;

 private:
  Qwen35Snapshot() = default;
  size_t bytes() const { return layout_.total_floats() * sizeof(float); }
  const float* host_part(size_t offset) const { return host_.data() + offset; }
  const float* device_part(size_t offset) const { return device_.floats() + offset; }

  const void* owner_ = nullptr;
  int64_t position_ = 0;
  SnapshotLayout layout_;
  SnapshotMemory memory_ = SnapshotMemory::host;
  HostFloats host_;                // host snapshots: layout_.total_floats() floats
  DeviceBuffer device_;            // device snapshots: the same, in the backend's memory
  Ops* ops_ = nullptr;             // device snapshots: the backend device_ belongs to
};

}  // namespace hearth::engine
