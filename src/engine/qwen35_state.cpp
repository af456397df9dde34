#include "engine/qwen35_state.h"

#include <algorithm>
#include <istream>
#include <optional>
#include <ostream>

#include "util/error.h"

namespace hearth::engine {

SequenceState::SequenceState(Ops& ops, const ModelConfig& c, int64_t capacity)
    : ops_(ops),
      capacity_(capacity),
      kv_width_(c.num_kv_heads * c.head_dim),
      conv_floats_(static_cast<size_t>((c.conv_kernel - 1) * c.linear_conv_channels())),
      recurrent_floats_(static_cast<size_t>(c.linear_v_heads * c.linear_k_dim * c.linear_v_dim)) {
  for (LayerKind kind : c.layer_types) {
    if (kind == LayerKind::full_attention) {
      slot_.push_back(static_cast<int64_t>(k_.size()));
      const size_t bytes = sizeof(float) * static_cast<size_t>(capacity) * static_cast<size_t>(kv_width_);
      k_.emplace_back(ops, bytes);
      v_.emplace_back(ops, bytes);
    } else {
      slot_.push_back(static_cast<int64_t>(conv_.size()));
      conv_.emplace_back(ops, sizeof(float) * conv_floats_);
      rec_.emplace_back(ops, sizeof(float) * recurrent_floats_);
    }
  }
}

void SequenceState::reset() {
  position = 0;
  for (auto& b : conv_) ops_.zero(b.get(), b.bytes());
  for (auto& b : rec_) ops_.zero(b.get(), b.bytes());
}

Tensor SequenceState::k_cache(int64_t layer) const {
  return k_[static_cast<size_t>(slot_[static_cast<size_t>(layer)])].tensor(capacity_, kv_width_);
}
Tensor SequenceState::v_cache(int64_t layer) const {
  return v_[static_cast<size_t>(slot_[static_cast<size_t>(layer)])].tensor(capacity_, kv_width_);
}
float* SequenceState::conv_state(int64_t layer) const { return conv_[static_cast<size_t>(slot_[static_cast<size_t>(layer)])].floats(); }
float* SequenceState::recurrent_state(int64_t layer) const {
  return rec_[static_cast<size_t>(slot_[static_cast<size_t>(layer)])].floats();
}

SnapshotLayout SequenceState::snapshot_layout(int64_t position, size_t logits_floats) const {
  SnapshotLayout l;
  l.full_layers = full_layers();
  l.linear_layers = linear_layers();
  l.kv_floats = kv_row_floats() * static_cast<size_t>(position);
  l.conv_floats = conv_floats_;
  l.recurrent_floats = recurrent_floats_;
  l.logits_floats = logits_floats;
  return l;
}

std::unique_ptr<Qwen35Snapshot> Qwen35Snapshot::save(const SnapshotSource& source) {
  const SequenceState& s = *source.state;
  Ops& ops = s.ops();
  std::unique_ptr<Qwen35Snapshot> snap(new Qwen35Snapshot());
  snap->owner_ = source.owner;
  snap->position_ = s.position;
  snap->layout_ = s.snapshot_layout(s.position, source.logits.size());
  const SnapshotLayout& l = snap->layout_;
  // A device snapshot is one allocation: one cudaMalloc per snapshot, not one per layer. When the device
  // has no room for it, the snapshot is made in host memory instead: slower, but the request goes on.
  snap->memory_ = source.memory;
  if (snap->memory_ == SnapshotMemory::device) {
    try {
      snap->device_ = DeviceBuffer(ops, l.total_floats() * sizeof(float));
      snap->ops_ = &ops;
    } catch (const Error&) {
      snap->memory_ = SnapshotMemory::host;
    }
  }
  if (snap->memory_ == SnapshotMemory::host) snap->host_.resize(l.total_floats());
  const bool on_device = snap->memory_ == SnapshotMemory::device;
  // Every part is contiguous in the state (KV rows [0, position) start the layer's cache): one copy each.
  auto part = [&](size_t offset, const void* src, size_t floats) {
    if (floats == 0) return;
    if (on_device) ops.copy(snap->device_.floats() + offset, src, floats * sizeof(float));
    else ops.download(snap->host_.data() + offset, src, floats * sizeof(float));
  };
  for (int64_t i = 0; i < l.full_layers; ++i) {
    part(l.k_offset(i), s.k_[static_cast<size_t>(i)].get(), l.kv_floats);
    part(l.v_offset(i), s.v_[static_cast<size_t>(i)].get(), l.kv_floats);
  }
  for (int64_t i = 0; i < l.linear_layers; ++i) {
    part(l.conv_offset(i), s.conv_[static_cast<size_t>(i)].get(), l.conv_floats);
    part(l.recurrent_offset(i), s.rec_[static_cast<size_t>(i)].get(), l.recurrent_floats);
  }
  if (on_device) {
    part(l.logits_offset(), source.device_logits, l.logits_floats);
  } else if (l.logits_floats) {
    std::copy(source.logits.begin(), source.logits.end(), snap->host_.data() + l.logits_offset());
  }
  return snap;
}

std::unique_ptr<Qwen35Snapshot> Qwen35Snapshot::to_host() const {
  std::unique_ptr<Qwen35Snapshot> copy(new Qwen35Snapshot());
  copy->owner_ = owner_;
  copy->position_ = position_;
  copy->layout_ = layout_;
  if (memory_ == SnapshotMemory::device) {
    copy->host_.resize(layout_.total_floats());
    if (!copy->host_.empty()) ops_->download(copy->host_.data(), device_.get(), bytes());
  } else {
    copy->host_ = host_;
  }
  return copy;
}

std::vector<float> Qwen35Snapshot::flat() const {
  std::vector<float> out(layout_.total_floats());
  if (memory_ == SnapshotMemory::device) {
    if (!out.empty()) ops_->download(out.data(), device_.get(), bytes());
  } else {
    std::copy(host_.begin(), host_.end(), out.begin());
  }
  return out;
}

void Qwen35Snapshot::restore_into(const SnapshotTarget& target) const {
  SequenceState& s = *target.state;
  Ops& ops = s.ops();
  const SnapshotLayout& l = layout_;
  if (position_ < 0 || position_ > s.capacity() || l != s.snapshot_layout(position_, target.logits->size())) {
    throw Error("state snapshot does not fit this model (layer counts, state sizes, position or vocabulary differ)",
                ErrorKind::invalid_request);
  }
  if (memory_ == SnapshotMemory::device && ops_ != &ops) {
    throw Error("state snapshot: its memory belongs to another backend", ErrorKind::invalid_request);
  }
  auto part = [&](void* dst, size_t offset, size_t floats) {
    if (floats == 0) return;
    if (memory_ == SnapshotMemory::device) ops.copy(dst, device_part(offset), floats * sizeof(float));
    else ops.upload(dst, host_part(offset), floats * sizeof(float));
  };
  for (int64_t i = 0; i < l.full_layers; ++i) {
    part(s.k_[static_cast<size_t>(i)].get(), l.k_offset(i), l.kv_floats);
    part(s.v_[static_cast<size_t>(i)].get(), l.v_offset(i), l.kv_floats);
  }
  for (int64_t i = 0; i < l.linear_layers; ++i) {
    part(s.conv_[static_cast<size_t>(i)].get(), l.conv_offset(i), l.conv_floats);
    part(s.rec_[static_cast<size_t>(i)].get(), l.recurrent_offset(i), l.recurrent_floats);
  }
  // The model keeps the logits in both memories (the head writes the backend copy, logits() reads the
  // host one); a device snapshot brings the host copy back with one small download.
  part(target.device_logits, l.logits_offset(), l.logits_floats);
  if (l.logits_floats) {
    if (memory_ == SnapshotMemory::device) {
      ops.download(target.logits->data(), device_part(l.logits_offset()), l.logits_floats * sizeof(float));
    } else {
      std::copy(host_part(l.logits_offset()), host_part(l.logits_offset()) + l.logits_floats, target.logits->begin());
    }
  }
  s.position = position_;
}

namespace {
constexpr uint64_t kMagic = 0x3153534854524548ull;  // "HEARTHSS1" (truncated)

void put_u64(std::ostream& out, uint64_t v) { out.write(reinterpret_cast<const char*>(&v), sizeof(v)); }
uint64_t get_u64(std::istream& in) {
  uint64_t v = 0;
  in.read(reinterpret_cast<char*>(&v), sizeof(v));
  if (!in) throw Error("state snapshot: truncated", ErrorKind::io);
  return v;
}
void put_part(std::ostream& out, const float* data, size_t floats) {
  put_u64(out, floats);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(floats * sizeof(float)));
}
constexpr uint64_t kMaxPartFloats = 1ull << 36;
constexpr uint64_t kMaxLayers = 4096;
constexpr size_t kReadChunkFloats = size_t{1} << 22;  // 16 MB
}  // namespace

void Qwen35Snapshot::write(std::ostream& out) const {
  const SnapshotLayout& l = layout_;
  std::unique_ptr<Qwen35Snapshot> host_copy;
  const Qwen35Snapshot* h = this;
  if (memory_ == SnapshotMemory::device) {
    host_copy = to_host();
    h = host_copy.get();
  }
  put_u64(out, kMagic);
  put_u64(out, static_cast<uint64_t>(position_));
  put_u64(out, static_cast<uint64_t>(l.full_layers));
  for (int64_t i = 0; i < l.full_layers; ++i) {
    put_part(out, h->host_part(l.k_offset(i)), l.kv_floats);
    put_part(out, h->host_part(l.v_offset(i)), l.kv_floats);
  }
  put_u64(out, static_cast<uint64_t>(l.linear_layers));
  for (int64_t i = 0; i < l.linear_layers; ++i) {
    put_part(out, h->host_part(l.conv_offset(i)), l.conv_floats);
    put_part(out, h->host_part(l.recurrent_offset(i)), l.recurrent_floats);
  }
  put_part(out, h->host_part(l.logits_offset()), l.logits_floats);
  if (!out) throw Error("state snapshot: write failed", ErrorKind::io);
}

std::unique_ptr<Qwen35Snapshot> Qwen35Snapshot::read(std::istream& in, const void* owner) {
  if (get_u64(in) != kMagic) throw Error("state snapshot: not a hearth qwen3.5 snapshot", ErrorKind::io);
  const uint64_t position = get_u64(in);
  if (position > (1ull << 40)) throw Error("state snapshot: implausible position", ErrorKind::io);
  // The parts are read into one growing host buffer, a bounded chunk at a time so that a truncated
  // file claiming a huge part fails before that much memory is taken. Every layer's part of a kind must
  // have the size of the first (the layout has one size per kind).
  HostFloats floats;
  auto read_part = [&](std::optional<size_t>& size_of_kind) {
    const uint64_t n = get_u64(in);
    if (n > kMaxPartFloats) throw Error("state snapshot: implausible size", ErrorKind::io);
    if (size_of_kind && *size_of_kind != n) throw Error("state snapshot: layers of one kind differ in size", ErrorKind::io);
    size_of_kind = static_cast<size_t>(n);
    for (size_t left = static_cast<size_t>(n); left > 0;) {
      const size_t chunk = std::min(left, kReadChunkFloats), at = floats.size();
      floats.resize(at + chunk);
      in.read(reinterpret_cast<char*>(floats.data() + at), static_cast<std::streamsize>(chunk * sizeof(float)));
      if (!in) throw Error("state snapshot: truncated", ErrorKind::io);
      left -= chunk;
    }
  };
  std::optional<size_t> kv, conv, recurrent, logits;
  SnapshotLayout l;
  const uint64_t full = get_u64(in);
  if (full > kMaxLayers) throw Error("state snapshot: implausible layer count", ErrorKind::io);
  for (uint64_t i = 0; i < full; ++i) {
    read_part(kv);
    read_part(kv);
  }
  const uint64_t linear = get_u64(in);
  if (linear > kMaxLayers) throw Error("state snapshot: implausible layer count", ErrorKind::io);
  for (uint64_t i = 0; i < linear; ++i) {
    read_part(conv);
    read_part(recurrent);
  }
  read_part(logits);
  l.full_layers = static_cast<int64_t>(full);
  l.linear_layers = static_cast<int64_t>(linear);
  l.kv_floats = kv.value_or(0);
  l.conv_floats = conv.value_or(0);
  l.recurrent_floats = recurrent.value_or(0);
  l.logits_floats = *logits;

  std::unique_ptr<Qwen35Snapshot> s(new Qwen35Snapshot());
  s->owner_ = owner;
  s->position_ = static_cast<int64_t>(position);
  s->layout_ = l;
  s->host_ = std::move(floats);
  return s;
}

}  // namespace hearth::engine
