#pragma once
// The model seam: everything above it (serve, chat, api) is the same code for the real engine (CPU or
// CUDA) and for the scripted model used in tests. It is token-level only: no text, no JSON.
//
// A Model holds several sequences at once, one per slot (info().slots, numbered 0..slots-1). forward()
// appends tokens to any set of slots in one pass — a decode step of several sequences, a prefill chunk,
// or both — and leaves each slot's last logits in slot_logits(). A slot's full state (attention KV +
// linear-attention conv/recurrent state) can be saved and restored exactly: the prompt cache (cache/)
// keeps such snapshots as opaque handles. On the Qwen3.5 engine a snapshot shares the attention KV pages
// of the sequence it was taken from (engine/kv_pages.h), so it costs the recurrent state, not the context.
//
// The slot-0 helpers at the end (reset(), prefill(), logits(), ...) are for single-sequence callers:
// tools, benchmarks and tests.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/top_logits.h"
#include "util/error.h"

namespace hearth::engine {

using SlotId = int32_t;

// The most logits slot_top_logits() returns (sampling's top-k beyond it reads the whole row).
constexpr int32_t kMaxTopLogits = 64;
// The most logits rows one entry of forward() can ask for: the verification of 8 drafted tokens after
// the pending one (speculative decoding, engine/generator.h).
constexpr int32_t kMaxLogitRows = 9;

struct ModelInfo {
  std::string architecture;       // e.g. "qwen3_5_moe", "scripted"
  int64_t vocab_size = 0;
  int64_t max_context = 0;        // positions one sequence can hold
  int32_t slots = 1;              // sequences held at once
  std::string description;        // one line for logs and banners
};

// One entry of forward(): append `tokens` (at least one) to the sequence in `slot`.
struct SlotTokens {
  SlotId slot = 0;
  std::span<const Token> tokens;
  // How many of the entry's last tokens need logits (1..min(kMaxLogitRows, tokens.size())): verifying
  // drafted tokens reads the logits after each (slot_row_logits). An entry of at most kMaxLogitRows
  // tokens runs the way that many one-token steps would (on the CPU reference bit for bit; Qwen3.5: the
  // DeltaNet's recurrent form), so that a verification and a re-run after a rollback are exact.
  int32_t logit_rows = 1;
};

// An opaque copy of a sequence's state at some position. Only the Model that made it can restore it
// (into any of its slots). A snapshot must be destroyed before the Model that made it: on a device
// backend it holds memory of that model's backend, which it gives back when destroyed.
class StateSnapshot {
 public:
  virtual ~StateSnapshot() = default;
  virtual int64_t position() const = 0;   // tokens the state covers
  // Memory the snapshot holds by itself. KV pages it shares with live sequences and other snapshots
  // are not counted here (the page pool accounts for them).
  virtual size_t device_bytes() const = 0;
  virtual size_t host_bytes() const = 0;
};

class Model {
 public:
  virtual ~Model() = default;
  virtual const ModelInfo& info() const = 0;

  // Empties the slot's sequence (position 0).
  virtual void reset_slot(SlotId slot) = 0;
  // Appends each entry's tokens to its slot (each slot at most once per call); afterwards
  // slot_logits(slot) belongs to that entry's last token. Throws hearth::Error before touching any state
  // when an entry is invalid (unknown slot, token outside the vocabulary, context exceeded).
  virtual void forward(std::span<const SlotTokens> batch) = 0;
  // Logits (vocab_size floats) after the slot's last appended token. Valid until the next mutating call.
  virtual std::span<const float> slot_logits(SlotId slot) const = 0;
  // The best min(k, limit) of slot_logits(slot)[0, limit) (k <= kMaxTopLogits), best first in
  // logit_before order (engine/top_logits.h). A device model selects them where the logits are.
  virtual std::vector<TokenLogit> slot_top_logits(SlotId slot, int32_t k, int64_t limit) const {
    return top_logits(slot_logits(slot), size_t(limit), size_t(k));
  }
  virtual int64_t slot_position(SlotId slot) const = 0;
  // Logits after the row-th (0-based) of the `logit_rows` last tokens of the slot's entry in the last
  // forward() that ran it; row logit_rows - 1 is slot_logits(slot). Valid until the next mutating call.
  // The defaults serve models that give one row only.
  virtual std::span<const float> slot_row_logits(SlotId slot, int32_t row) const {
    if (row != 0) throw Error(info().architecture + ": logits of several rows are not supported", ErrorKind::unsupported);
    return slot_logits(slot);
  }
  virtual std::vector<TokenLogit> slot_row_top_logits(SlotId slot, int32_t row, int32_t k, int64_t limit) const {
    return top_logits(slot_row_logits(slot, row), size_t(limit), size_t(k));
  }

  // Exact copy of a slot's state / replace a slot's state with a copy (made from any slot).
  virtual std::unique_ptr<StateSnapshot> save_slot(SlotId slot) const = 0;
  // Accepts any snapshot this model made, including those returned by offload_state() and
  // deserialize_state() (a host-memory snapshot is copied back to the device as part of the restore).
  virtual void restore_slot(SlotId slot, const StateSnapshot& snapshot) = 0;

  // --- prompt-cache tiers (cache/). Added with defaults so that every model works without them. ---
  // A copy of `snapshot` that lives in host memory only (device_bytes() == 0 and no shared device
  // pages), used when the cache's GPU budget is full. nullptr means "cannot offload" (the default, and
  // right for models whose snapshots are already host-only): the cache then drops the snapshot instead.
  virtual std::unique_ptr<StateSnapshot> offload_state(const StateSnapshot& snapshot) const { return nullptr; }
  // Persistence (cache --cache-dir): writes the snapshot's contents in a format only this kind of model
  // reads back; deserialize_state() returns a host-memory snapshot. The cache stores its own header
  // (model identity, token path) around these bytes. Throw hearth::Error(unsupported) when not possible.
  virtual void serialize_state(const StateSnapshot& snapshot, std::ostream& out) const {
    throw Error(info().architecture + ": saving state snapshots to disk is not supported", ErrorKind::unsupported);
  }
  virtual std::unique_ptr<StateSnapshot> deserialize_state(std::istream& in) const {
    throw Error(info().architecture + ": loading state snapshots to disk is not supported", ErrorKind::unsupported);
  }
  // Whether `snapshot` holds memory of the model's KV page pool (device or host pages): the prompt
  // cache drops such snapshots first when the pool runs short (see set_page_reclaimer).
  virtual bool holds_pages(const StateSnapshot& snapshot) const { return false; }
  // Called when forward() or restore_slot() needs KV pages and the pool has none free: the handler
  // releases something that holds pages (the prompt cache drops a checkpoint) and returns true, or
  // returns false when it has nothing left to release (the call then throws ErrorKind::out_of_memory).
  virtual void set_page_reclaimer(std::function<bool()> reclaim) {}
  // Host memory of KV pages that only snapshots hold (no slot maps them) on a backend whose pages are
  // host memory (the CPU): the memory the prompt cache's checkpoints keep beyond their own state, which
  // the cache counts against its host budget. 0 where pages are device memory: the device pool is
  // planned whole at start-up, and the page reclaimer keeps checkpoints inside it.
  virtual size_t snapshot_host_page_bytes() const { return 0; }

  // Metrics: the most device (GPU) memory this model has held at once, weights included; 0 when the
  // model has no device memory or does not track it.
  virtual size_t peak_device_bytes() const { return 0; }

  // --- slot 0, for single-sequence callers ---
  void reset() { reset_slot(0); }
  // Appends `tokens` (any number, at least one) to slot 0; the model splits them into passes itself.
  void prefill(std::span<const Token> tokens) {
    const SlotTokens entry{0, tokens};
    forward(std::span<const SlotTokens>(&entry, 1));
  }
  std::span<const float> logits() const { return slot_logits(0); }
  int64_t position() const { return slot_position(0); }
  std::unique_ptr<StateSnapshot> save_state() const { return save_slot(0); }
  void restore_state(const StateSnapshot& snapshot) { restore_slot(0, snapshot); }
};

}  // namespace hearth::engine
