#include "engine/qwen35_state.h"

#include <istream>
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

namespace {
std::vector<float> download(Ops& ops, const void* src, size_t floats) {
  std::vector<float> v(floats);
  if (floats) ops.download(v.data(), src, floats * sizeof(float));
  return v;
}
}  // namespace

Qwen35Snapshot::Qwen35Snapshot(const void* owner, const SequenceState& s, Ops& ops, const std::vector<float>& logits)
    : owner_(owner), position_(s.position), logits_(logits) {
  const size_t kv = s.kv_row_floats() * static_cast<size_t>(s.position);
  for (size_t i = 0; i < s.k_.size(); ++i) {
    k_.push_back(download(ops, s.k_[i].get(), kv));
    v_.push_back(download(ops, s.v_[i].get(), kv));
  }
  for (size_t i = 0; i < s.conv_.size(); ++i) {
    conv_.push_back(download(ops, s.conv_[i].get(), s.conv_floats_));
    rec_.push_back(download(ops, s.rec_[i].get(), s.recurrent_floats_));
  }
}

size_t Qwen35Snapshot::host_bytes() const {
  size_t n = logits_.size();
  for (const auto* group : {&k_, &v_, &conv_, &rec_}) {
    for (const auto& v : *group) n += v.size();
  }
  return n * sizeof(float);
}

std::vector<float> Qwen35Snapshot::flat() const {
  std::vector<float> out;
  for (const auto* group : {&k_, &v_, &conv_, &rec_}) {
    for (const auto& v : *group) out.insert(out.end(), v.begin(), v.end());
  }
  out.insert(out.end(), logits_.begin(), logits_.end());
  return out;
}

void Qwen35Snapshot::restore_into(SequenceState& s, Ops& ops, std::vector<float>& logits) const {
  if (k_.size() != s.k_.size() || conv_.size() != s.conv_.size() || position_ > s.capacity()) {
    throw Error("state snapshot does not fit this model", ErrorKind::invalid_request);
  }
  const size_t kv = s.kv_row_floats() * static_cast<size_t>(position_);
  for (size_t i = 0; i < k_.size(); ++i) {
    if (k_[i].size() != kv || v_[i].size() != kv) throw Error("state snapshot: KV size does not match", ErrorKind::invalid_request);
  }
  for (size_t i = 0; i < conv_.size(); ++i) {
    if (conv_[i].size() != s.conv_floats_ || rec_[i].size() != s.recurrent_floats_) {
      throw Error("state snapshot: linear-attention state size does not match", ErrorKind::invalid_request);
    }
  }
  for (size_t i = 0; i < k_.size(); ++i) {
    ops.upload(s.k_[i].get(), k_[i].data(), k_[i].size() * sizeof(float));
    ops.upload(s.v_[i].get(), v_[i].data(), v_[i].size() * sizeof(float));
  }
  for (size_t i = 0; i < conv_.size(); ++i) {
    ops.upload(s.conv_[i].get(), conv_[i].data(), conv_[i].size() * sizeof(float));
    ops.upload(s.rec_[i].get(), rec_[i].data(), rec_[i].size() * sizeof(float));
  }
  s.position = position_;
  logits = logits_;
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
void put_vec(std::ostream& out, const std::vector<float>& v) {
  put_u64(out, v.size());
  out.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float)));
}
std::vector<float> get_vec(std::istream& in) {
  const uint64_t n = get_u64(in);
  if (n > (1ull << 36)) throw Error("state snapshot: implausible size", ErrorKind::io);
  std::vector<float> v(n);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n * sizeof(float)));
  if (!in) throw Error("state snapshot: truncated", ErrorKind::io);
  return v;
}
}  // namespace

void Qwen35Snapshot::write(std::ostream& out) const {
  put_u64(out, kMagic);
  put_u64(out, static_cast<uint64_t>(position_));
  put_u64(out, k_.size());
  for (size_t i = 0; i < k_.size(); ++i) {
    put_vec(out, k_[i]);
    put_vec(out, v_[i]);
  }
  put_u64(out, conv_.size());
  for (size_t i = 0; i < conv_.size(); ++i) {
    put_vec(out, conv_[i]);
    put_vec(out, rec_[i]);
  }
  put_vec(out, logits_);
}

std::unique_ptr<Qwen35Snapshot> Qwen35Snapshot::read(std::istream& in, const void* owner) {
  if (get_u64(in) != kMagic) throw Error("state snapshot: not a hearth qwen3.5 snapshot", ErrorKind::io);
  auto s = std::make_unique<Qwen35Snapshot>();
  s->owner_ = owner;
  s->position_ = static_cast<int64_t>(get_u64(in));
  const uint64_t full = get_u64(in);
  if (full > 4096) throw Error("state snapshot: implausible layer count", ErrorKind::io);
  for (uint64_t i = 0; i < full; ++i) {
    s->k_.push_back(get_vec(in));
    s->v_.push_back(get_vec(in));
  }
  const uint64_t linear = get_u64(in);
  if (linear > 4096) throw Error("state snapshot: implausible layer count", ErrorKind::io);
  for (uint64_t i = 0; i < linear; ++i) {
    s->conv_.push_back(get_vec(in));
    s->rec_.push_back(get_vec(in));
  }
  s->logits_ = get_vec(in);
  return s;
}

}  // namespace hearth::engine
