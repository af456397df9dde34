#pragma once
// A Model for prompt-cache tests. Its state is a running hash of every token appended since reset(),
// which, like a recurrent state, cannot be rolled back; its logits are a function of that hash, so the
// greedy continuation depends on the whole token history and a wrong restore changes the output.
// Snapshots report configurable byte sizes, carry the token path they cover (so tests can check the
// cache restored exactly a prefix), and can be offloaded and (de)serialised when the test enables it.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <istream>
#include <memory>
#include <ostream>
#include <span>
#include <vector>

#include "engine/model.h"
#include "util/error.h"

namespace hearth::cache::testing {

struct FakeModelOptions {
  int64_t vocab = 97;
  int64_t max_context = 1 << 20;
  size_t device_bytes = 1000;    // of a snapshot on the device (0: snapshots live in host memory)
  size_t host_bytes = 0;         // host memory a device snapshot also uses
  size_t offloaded_bytes = 1000; // host bytes of an offloaded snapshot
  bool can_offload = true;
  bool can_serialize = true;
  uint64_t salt = 0;             // a different salt = different weights
  bool snapshots_hold_pages = false;  // Model::holds_pages for device snapshots (a paged KV model)
};

class FakeSnapshot : public engine::StateSnapshot {
 public:
  FakeSnapshot() { ++live; }
  FakeSnapshot(const FakeSnapshot& other)
      : engine::StateSnapshot(other), tokens(other.tokens), hash(other.hash), device(other.device), host(other.host) {
    ++live;
  }
  ~FakeSnapshot() override { --live; }
  static inline int64_t live = 0;  // snapshots in existence (tests of page accounting)
  int64_t position() const override { return static_cast<int64_t>(tokens.size()); }
  size_t device_bytes() const override { return device; }
  size_t host_bytes() const override { return host; }
  std::vector<engine::Token> tokens;
  uint64_t hash = 0;
  size_t device = 0;
  size_t host = 0;
};

class FakeModel : public engine::Model {
 public:
  explicit FakeModel(FakeModelOptions options = {}) : options_(options) {
    info_.architecture = "fake";
    info_.vocab_size = options.vocab;
    info_.max_context = options.max_context;
    reset();
  }
  const engine::ModelInfo& info() const override { return info_; }
  // One slot: the prompt cache's tests need one sequence.
  void reset_slot(engine::SlotId slot) override {
    check_slot(slot);
    tokens_.clear();
    hash_ = 0x9e3779b97f4a7c15ULL ^ options_.salt;
    fill_logits();
  }
  void forward(std::span<const engine::SlotTokens> batch) override {
    if (batch.size() != 1) throw Error("fake: one entry per forward", ErrorKind::internal);
    check_slot(batch[0].slot);
    const std::span<const engine::Token> tokens = batch[0].tokens;
    if (tokens.empty()) throw Error("fake: empty prefill", ErrorKind::internal);
    for (engine::Token t : tokens) {
      tokens_.push_back(t);
      hash_ = mix(hash_ ^ static_cast<uint64_t>(t));
    }
    prefilled += static_cast<int64_t>(tokens.size());
    ++prefill_calls;
    prefill_ends.push_back(position());
    fill_logits();
  }
  std::span<const float> slot_logits(engine::SlotId slot) const override {
    check_slot(slot);
    return logits_;
  }
  int64_t slot_position(engine::SlotId slot) const override {
    check_slot(slot);
    return static_cast<int64_t>(tokens_.size());
  }

  std::unique_ptr<engine::StateSnapshot> save_slot(engine::SlotId slot) const override {
    check_slot(slot);
    auto s = std::make_unique<FakeSnapshot>();
    s->tokens = tokens_;
    s->hash = hash_;
    s->device = options_.device_bytes;
    s->host = options_.device_bytes > 0 ? options_.host_bytes : options_.offloaded_bytes;
    ++saves;
    return s;
  }
  void restore_slot(engine::SlotId slot, const engine::StateSnapshot& snapshot) override {
    check_slot(slot);
    const auto& s = dynamic_cast<const FakeSnapshot&>(snapshot);
    tokens_ = s.tokens;
    hash_ = s.hash;
    fill_logits();
    ++restores;
  }
  // Host KV page bytes only snapshots hold: `host_page_bytes_per_snapshot` for each live snapshot.
  size_t snapshot_host_page_bytes() const override {
    return host_page_bytes_per_snapshot * static_cast<size_t>(std::max<int64_t>(0, FakeSnapshot::live));
  }
  size_t host_page_bytes_per_snapshot = 0;
  bool holds_pages(const engine::StateSnapshot& snapshot) const override {
    return options_.snapshots_hold_pages && snapshot.device_bytes() > 0;
  }
  std::unique_ptr<engine::StateSnapshot> offload_state(const engine::StateSnapshot& snapshot) const override {
    if (!options_.can_offload) return nullptr;
    auto s = std::make_unique<FakeSnapshot>(dynamic_cast<const FakeSnapshot&>(snapshot));
    s->device = 0;
    s->host = options_.offloaded_bytes;
    ++offloads;
    return s;
  }
  void serialize_state(const engine::StateSnapshot& snapshot, std::ostream& out) const override {
    if (!options_.can_serialize) return Model::serialize_state(snapshot, out);
    const auto& s = dynamic_cast<const FakeSnapshot&>(snapshot);
    uint64_t n = s.tokens.size();
    out.write(reinterpret_cast<const char*>(&n), sizeof n);
    out.write(reinterpret_cast<const char*>(s.tokens.data()), static_cast<std::streamsize>(n * sizeof(engine::Token)));
    out.write(reinterpret_cast<const char*>(&s.hash), sizeof s.hash);
  }
  std::unique_ptr<engine::StateSnapshot> deserialize_state(std::istream& in) const override {
    if (!options_.can_serialize) return Model::deserialize_state(in);
    auto s = std::make_unique<FakeSnapshot>();
    uint64_t n = 0;
    if (!in.read(reinterpret_cast<char*>(&n), sizeof n) || n > (1u << 20)) throw Error("fake: bad state", ErrorKind::io);
    s->tokens.resize(n);
    in.read(reinterpret_cast<char*>(s->tokens.data()), static_cast<std::streamsize>(n * sizeof(engine::Token)));
    if (!in.read(reinterpret_cast<char*>(&s->hash), sizeof s->hash)) throw Error("fake: truncated state", ErrorKind::io);
    s->device = 0;
    s->host = options_.offloaded_bytes;
    ++deserialized;
    return s;
  }

  const std::vector<engine::Token>& tokens() const { return tokens_; }
  FakeModelOptions& options() { return options_; }

  int64_t prefilled = 0;
  int64_t prefill_calls = 0;
  std::vector<int64_t> prefill_ends;  // position after each prefill() call
  mutable int64_t saves = 0;
  mutable int64_t offloads = 0;
  mutable int64_t deserialized = 0;
  int64_t restores = 0;

 private:
  static void check_slot(engine::SlotId slot) {
    if (slot != 0) throw Error("fake: only slot 0 exists", ErrorKind::internal);
  }
  static uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
  }
  void fill_logits() {
    logits_.resize(static_cast<size_t>(options_.vocab));
    uint64_t h = hash_;
    for (auto& l : logits_) {
      h = mix(h + 0x632be59bd9b4e019ULL);
      l = static_cast<float>(h % 100000) / 1000.0f;
    }
  }

  FakeModelOptions options_;
  engine::ModelInfo info_;
  std::vector<engine::Token> tokens_;
  uint64_t hash_ = 0;
  std::vector<float> logits_;
};

inline std::unique_ptr<engine::StateSnapshot> snapshot_of(FakeModel& model, std::span<const engine::Token> path) {
  model.reset();
  model.prefill(path);
  return model.save_state();
}

}  // namespace hearth::cache::testing
