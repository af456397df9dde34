#pragma once
// Per-sequence state of a Qwen3.5/3.6 model, in the backend's memory: the attention KV of each full
// attention layer (paged, engine/kv_pages.h) and the conv + recurrent state of each linear attention
// layer. A model holds one SequenceState per slot.
//
// Snapshots come in two forms:
//  - paged (what save() makes): the KV pages covering [0, position) are shared — retained, not copied
//    — and the linear layers' state and the logits are copied into one allocation in the backend's
//    memory. Its cost is the recurrent state (tens of MiB on the 35B-A3B shape), not the context.
//  - host: every float in host memory, KV rows included (offloading to the host tier, disk files).
// Both restore bit-identically; flat() gives the same floats for both. Lifetime: a snapshot holds
// pages of the model's pool and memory of its Ops, so it must be destroyed before the model.
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "engine/config.h"
#include "engine/device_buffer.h"
#include "engine/kv_pages.h"
#include "engine/model.h"

namespace hearth::engine {

// Sizes (in floats) of a full snapshot's parts, stored one after another in this order (the order of
// the serialised form): K then V of each full-attention layer (rows [0, position)), conv then recurrent
// state of each linear-attention layer, the logits. A paged snapshot's own buffer has the layout with
// kv_floats = 0 (state_only()).
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
  SnapshotLayout state_only() const {
    SnapshotLayout l = *this;
    l.kv_floats = 0;
    return l;
  }
  bool operator==(const SnapshotLayout&) const = default;
};

class SequenceState {
 public:
  SequenceState(Ops& ops, const ModelConfig& config, KvPagePool& pool, size_t logits_floats);

  void reset();  // position 0, KV pages released, linear state and logits zeroed
  int64_t position = 0;

  // The last logits live in the backend's memory (the model's head writes them there); the host copy
  // is made only when asked for (sampling usually needs only the best few: Ops::top_logits).
  float* device_logits() const { return logits_dev_.floats(); }
  size_t logits_floats() const { return logits_floats_; }
  std::span<const float> host_logits() const;
  void logits_written() { host_logits_valid_ = false; }  // after anything wrote device_logits()

  int64_t capacity() const { return pool_.geometry().capacity; }
  Ops& ops() const { return ops_; }
  KvPagePool& pool() const { return pool_; }
  KvSequence& kv() { return kv_; }
  const KvSequence& kv() const { return kv_; }
  // Makes the KV rows of the next `n` positions writable (pages mapped, shared ones copied).
  void prepare_append(int64_t n) { kv_.prepare_write(position, n); }

  // By layer index (-1 for layers of the other kind).
  Tensor k_cache(int64_t layer) const { return kv_.k(index_[static_cast<size_t>(layer)]); }
  Tensor v_cache(int64_t layer) const { return kv_.v(index_[static_cast<size_t>(layer)]); }
  float* conv_state(int64_t layer) const { return conv_[static_cast<size_t>(index_[static_cast<size_t>(layer)])].floats(); }
  float* recurrent_state(int64_t layer) const { return rec_[static_cast<size_t>(index_[static_cast<size_t>(layer)])].floats(); }

  int64_t full_layers() const { return pool_.geometry().layers; }
  int64_t linear_layers() const { return static_cast<int64_t>(conv_.size()); }
  // The layout of a full snapshot of this state at `position`.
  SnapshotLayout snapshot_layout(int64_t position) const;

 private:
  friend class Qwen35Snapshot;
  Ops& ops_;
  KvPagePool& pool_;
  KvSequence kv_;
  size_t conv_floats_, recurrent_floats_;
  std::vector<int64_t> index_;  // layer → index among the layers of its kind
  std::vector<DeviceBuffer> conv_, rec_;
  size_t logits_floats_;
  DeviceBuffer logits_dev_;
  mutable std::vector<float> logits_host_;
  mutable bool host_logits_valid_ = true;
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

class Qwen35Snapshot final : public StateSnapshot {
 public:
  ~Qwen35Snapshot() override;
  // A paged snapshot of `state` (see above), owned by `owner`. When the backend has no memory left for
  // the state copy, a host snapshot instead: slower, but the request goes on.
  static std::unique_ptr<Qwen35Snapshot> save(const SequenceState& state, const void* owner);
  // Reads what write() wrote; the result is a host snapshot owned by `owner`. Sizes are checked
  // against the model only when it is restored.
  static std::unique_ptr<Qwen35Snapshot> read(std::istream& in, const void* owner);

  int64_t position() const override { return position_; }
  size_t device_bytes() const override { return memory() == SnapshotMemory::device ? own_bytes() : 0; }
  size_t host_bytes() const override { return memory() == SnapshotMemory::host ? own_bytes() : 0; }
  // Where the snapshot's own floats are (a paged snapshot's KV pages are in the pool, wherever it is).
  SnapshotMemory memory() const;
  bool paged() const { return pool_ != nullptr; }
  const std::vector<PageId>& pages() const { return pages_; }
  const SnapshotLayout& layout() const { return layout_; }
  const void* owner() const { return owner_; }

  // A host snapshot with every float (one download of a paged snapshot's pages and state).
  std::unique_ptr<Qwen35Snapshot> to_host() const;
  // Writes the snapshot into `state`; throws hearth::Error, leaving the state untouched, when the
  // snapshot's sizes do not match it.
  void restore_into(SequenceState& state) const;
  // Every float of the snapshot in the full layout's order: for comparing states.
  std::vector<float> flat() const;
  void write(std::ostream& out) const;

 private:
  Qwen35Snapshot() = default;
  size_t own_bytes() const;

  const void* owner_ = nullptr;
  int64_t position_ = 0;
  SnapshotLayout layout_;          // the full layout (KV rows included)
  // Paged: the pages (one reference each) and the state copy in the backend's memory.
  KvPagePool* pool_ = nullptr;
  std::vector<PageId> pages_;
  DeviceBuffer state_;             // layout_.state_only()
  // Host: every float, layout_.
  HostFloats host_;
};

}  // namespace hearth::engine
