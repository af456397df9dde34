#include "engine/qwen35_state.h"

#include <algorithm>
#include <istream>
#include <optional>
#include <ostream>

#include "util/error.h"

namespace hearth::engine {

SequenceState::SequenceState(Ops& ops, const ModelConfig& c, KvPagePool& pool, size_t logits_floats)
    : ops_(ops),
      pool_(pool),
      kv_(pool),
      conv_floats_(static_cast<size_t>((c.conv_kernel - 1) * c.linear_conv_channels())),
      recurrent_floats_(static_cast<size_t>(c.linear_v_heads * c.linear_k_dim * c.linear_v_dim)),
      logits_floats_(logits_floats),
      logits_dev_(ops, sizeof(float) * std::max<size_t>(1, logits_floats)),
      logits_host_(logits_floats, 0.0f) {
  int64_t full = 0;
  for (LayerKind kind : c.layer_types) {
    if (kind == LayerKind::full_attention) {
      index_.push_back(full++);
    } else {
      index_.push_back(static_cast<int64_t>(conv_.size()));
      conv_.emplace_back(ops, sizeof(float) * conv_floats_);
      rec_.emplace_back(ops, sizeof(float) * recurrent_floats_);
    }
  }
  if (full != pool.geometry().layers) throw Error("sequence state: the KV pool has another layer count", ErrorKind::internal);
  ops_.zero(logits_dev_.get(), logits_dev_.bytes());
}

std::span<const float> SequenceState::host_logits() const {
  if (!host_logits_valid_) {
    ops_.download(logits_host_.data(), logits_dev_.get(), logits_floats_ * sizeof(float));
    host_logits_valid_ = true;
  }
  return logits_host_;
}

void SequenceState::reset() {
  position = 0;
  kv_.clear();
  for (auto& b : conv_) ops_.zero(b.get(), b.bytes());
  for (auto& b : rec_) ops_.zero(b.get(), b.bytes());
  ops_.zero(logits_dev_.get(), logits_dev_.bytes());
  std::fill(logits_host_.begin(), logits_host_.end(), 0.0f);
  host_logits_valid_ = true;
}

SnapshotLayout SequenceState::snapshot_layout(int64_t at) const {
  SnapshotLayout l;
  l.full_layers = full_layers();
  l.linear_layers = linear_layers();
  l.kv_floats = static_cast<size_t>(pool_.geometry().row_floats) * static_cast<size_t>(at);
  l.conv_floats = conv_floats_;
  l.recurrent_floats = recurrent_floats_;
  l.logits_floats = logits_floats_;
  return l;
}

// ---- snapshots -----------------------------------------------------------------------------------

namespace {
// Downloads the K and V rows of `layout` from `kv` (a slot's sequence or the staging view) into the
// full layout's host floats.
void download_kv_rows(Ops& ops, const KvSequence& kv, const SnapshotLayout& layout, float* host) {
  for (int64_t i = 0; i < layout.full_layers; ++i) {
    ops.download(host + layout.k_offset(i), kv.k(i).data, layout.kv_floats * sizeof(float));
    ops.download(host + layout.v_offset(i), kv.v(i).data, layout.kv_floats * sizeof(float));
  }
}
}  // namespace

Qwen35Snapshot::~Qwen35Snapshot() {
  for (PageId page : pages_) pool_->release(page);
}

SnapshotMemory Qwen35Snapshot::memory() const {
  return paged() && !pool_->ops().memory_is_host() ? SnapshotMemory::device : SnapshotMemory::host;
}

size_t Qwen35Snapshot::own_bytes() const {
  return (paged() ? layout_.state_only().total_floats() : layout_.total_floats()) * sizeof(float);
}

std::unique_ptr<Qwen35Snapshot> Qwen35Snapshot::save(const SequenceState& s, const void* owner) {
  Ops& ops = s.ops();
  std::unique_ptr<Qwen35Snapshot> snap(new Qwen35Snapshot());
  snap->owner_ = owner;
  snap->position_ = s.position;
  snap->layout_ = s.snapshot_layout(s.position);
  const SnapshotLayout state = snap->layout_.state_only();
  // The state copy is one allocation (one cudaMalloc per snapshot, not one per layer). When the backend
  // has no room for it, the snapshot is made in host memory instead.
  try {
    snap->state_ = DeviceBuffer(ops, state.total_floats() * sizeof(float));
  } catch (const Error&) {
    snap->host_.resize(snap->layout_.total_floats());
    const SnapshotLayout& l = snap->layout_;
    download_kv_rows(ops, s.kv_, l, snap->host_.data());
    for (int64_t i = 0; i < l.linear_layers; ++i) {
      ops.download(snap->host_.data() + l.conv_offset(i), s.conv_[static_cast<size_t>(i)].get(), l.conv_floats * sizeof(float));
      ops.download(snap->host_.data() + l.recurrent_offset(i), s.rec_[static_cast<size_t>(i)].get(), l.recurrent_floats * sizeof(float));
    }
    const std::span<const float> logits = s.host_logits();
    std::copy(logits.begin(), logits.end(), snap->host_.data() + l.logits_offset());
    return snap;
  }
  snap->pages_ = s.kv_.share(s.position);
  snap->pool_ = &s.pool();
  float* dst = snap->state_.floats();
  for (int64_t i = 0; i < state.linear_layers; ++i) {
    ops.copy(dst + state.conv_offset(i), s.conv_[static_cast<size_t>(i)].get(), state.conv_floats * sizeof(float));
    ops.copy(dst + state.recurrent_offset(i), s.rec_[static_cast<size_t>(i)].get(), state.recurrent_floats * sizeof(float));
  }
  if (state.logits_floats) ops.copy(dst + state.logits_offset(), s.device_logits(), state.logits_floats * sizeof(float));
  return snap;
}

std::unique_ptr<Qwen35Snapshot> Qwen35Snapshot::to_host() const {
  std::unique_ptr<Qwen35Snapshot> copy(new Qwen35Snapshot());
  copy->owner_ = owner_;
  copy->position_ = position_;
  copy->layout_ = layout_;
  if (!paged()) {
    copy->host_ = host_;
    return copy;
  }
  const SnapshotLayout& l = layout_;
  const SnapshotLayout state = l.state_only();
  Ops& ops = pool_->ops();
  copy->host_.resize(l.total_floats());
  // The pages are read through the pool's staging view (no slot need hold them).
  KvSequence& view = pool_->staging();
  view.adopt(pages_);
  try {
    download_kv_rows(ops, view, l, copy->host_.data());
  } catch (...) {
    view.clear();
    throw;
  }
  view.clear();
  // The state part is the full layout's tail: one download.
  ops.download(copy->host_.data() + l.conv_offset(0), state_.get(), state.total_floats() * sizeof(float));
  return copy;
}

std::vector<float> Qwen35Snapshot::flat() const {
  if (paged()) {
    const auto host = to_host();
    return {host->host_.begin(), host->host_.end()};
  }
  return {host_.begin(), host_.end()};
}

void Qwen35Snapshot::restore_into(SequenceState& s) const {
  Ops& ops = s.ops();
  const SnapshotLayout& l = layout_;
  if (position_ < 0 || position_ > s.capacity() || l != s.snapshot_layout(position_)) {
    throw Error("state snapshot does not fit this model (layer counts, state sizes, position or vocabulary differ)",
                ErrorKind::invalid_request);
  }
  if (paged() && pool_ != &s.pool()) throw Error("state snapshot: its pages belong to another model", ErrorKind::invalid_request);
  const SnapshotLayout state = l.state_only();
  if (paged()) {
    s.kv_.adopt(pages_);  // maps only the pages the slot does not hold already
    const float* src = state_.floats();
    for (int64_t i = 0; i < state.linear_layers; ++i) {
      ops.copy(s.conv_[static_cast<size_t>(i)].get(), src + state.conv_offset(i), state.conv_floats * sizeof(float));
      ops.copy(s.rec_[static_cast<size_t>(i)].get(), src + state.recurrent_offset(i), state.recurrent_floats * sizeof(float));
    }
    if (state.logits_floats) ops.copy(s.device_logits(), src + state.logits_offset(), state.logits_floats * sizeof(float));
  } else {
    s.kv_.clear();
    s.kv_.prepare_write(0, position_);
    for (int64_t i = 0; i < l.full_layers; ++i) {
      ops.upload(s.kv_.k(i).data, host_.data() + l.k_offset(i), l.kv_floats * sizeof(float));
      ops.upload(s.kv_.v(i).data, host_.data() + l.v_offset(i), l.kv_floats * sizeof(float));
    }
    for (int64_t i = 0; i < l.linear_layers; ++i) {
      ops.upload(s.conv_[static_cast<size_t>(i)].get(), host_.data() + l.conv_offset(i), l.conv_floats * sizeof(float));
      ops.upload(s.rec_[static_cast<size_t>(i)].get(), host_.data() + l.recurrent_offset(i), l.recurrent_floats * sizeof(float));
    }
    if (l.logits_floats) ops.upload(s.device_logits(), host_.data() + l.logits_offset(), l.logits_floats * sizeof(float));
  }
  s.position = position_;
  s.logits_written();
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
  if (paged()) {
    host_copy = to_host();
    h = host_copy.get();
  }
  put_u64(out, kMagic);
  put_u64(out, static_cast<uint64_t>(position_));
  put_u64(out, static_cast<uint64_t>(l.full_layers));
  for (int64_t i = 0; i < l.full_layers; ++i) {
    put_part(out, h->host_.data() + l.k_offset(i), l.kv_floats);
    put_part(out, h->host_.data() + l.v_offset(i), l.kv_floats);
  }
  put_u64(out, static_cast<uint64_t>(l.linear_layers));
  for (int64_t i = 0; i < l.linear_layers; ++i) {
    put_part(out, h->host_.data() + l.conv_offset(i), l.conv_floats);
    put_part(out, h->host_.data() + l.recurrent_offset(i), l.recurrent_floats);
  }
  put_part(out, h->host_.data() + l.logits_offset(), l.logits_floats);
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
