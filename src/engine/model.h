#pragma once
// The model seam: everything above it (chat, api) is the same code for the real engine (CPU or CUDA)
// and for the scripted model used in tests. It is token-level only: no text, no JSON.
//
// A Model holds one live sequence (batch 1). prefill() appends tokens to it and leaves the logits of
// the last appended token in logits(); calling prefill() with one token is a decode step. The live
// sequence's full state (attention KV + linear-attention conv/recurrent state) can be saved and
// restored exactly: the prompt cache (cache/) stores such snapshots as opaque handles.
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "util/error.h"

namespace hearth::engine {

using Token = int32_t;

struct ModelInfo {
  std::string architecture;       // e.g. "qwen3_5_moe", "scripted"
  int64_t vocab_size = 0;
  int64_t max_context = 0;        // positions the state can hold
  std::string description;        // one line for logs and banners
};

// An opaque copy of a sequence's state at some position. Only the Model that made it can restore it.
// A snapshot must be destroyed before the Model that made it: on a device backend it holds memory of
// that model's backend (device_bytes() > 0), which it gives back when destroyed.
class StateSnapshot {
 public:
  virtual ~StateSnapshot() = default;
  virtual int64_t position() const = 0;   // tokens the state covers
  virtual size_t device_bytes() const = 0;
  virtual size_t host_bytes() const = 0;
};

class Model {
 public:
  virtual ~Model() = default;
  virtual const ModelInfo& info() const = 0;

  // Drops the live sequence (position 0).
  virtual void reset() = 0;
  // Appends `tokens` (at least one) to the live sequence; afterwards logits() belongs to the last token.
  // Throws hearth::Error if the sequence would exceed max_context.
  virtual void prefill(std::span<const Token> tokens) = 0;
  // Logits (vocab_size floats) after the last appended token. Valid until the next mutating call.
  virtual std::span<const float> logits() const = 0;
  virtual int64_t position() const = 0;

  // Exact copy of the live state / replace the live state with a copy.
  virtual std::unique_ptr<StateSnapshot> save_state() const = 0;
  // Accepts any snapshot this model made, including those returned by offload_state() and
  // deserialize_state() (a host-memory snapshot is copied back to the device as part of the restore).
  virtual void restore_state(const StateSnapshot& snapshot) = 0;

  // --- prompt-cache tiers (cache/). Added with defaults so that every model works without them. ---
  // A copy of `snapshot` that lives in host memory only (device_bytes() == 0), used when the cache's GPU
  // budget is full. nullptr means "cannot offload" (the default, and right for models whose snapshots
  // are already host-only): the cache then drops the snapshot instead of demoting it.
  virtual std::unique_ptr<StateSnapshot> offload_state(const StateSnapshot& snapshot) const { return nullptr; }
  // Persistence (cache --cache-dir): writes the snapshot's contents in a format only this kind of model
  // reads back; deserialize_state() returns a host-memory snapshot. The cache stores its own header
  // (model identity, token path) around these bytes. Throw hearth::Error(unsupported) when not possible.
  virtual void serialize_state(const StateSnapshot& snapshot, std::ostream& out) const {
    throw Error(info().architecture + ": saving state snapshots to disk is not supported", ErrorKind::unsupported);
  }
  virtual std::unique_ptr<StateSnapshot> deserialize_state(std::istream& in) const {
    throw Error(info().architecture + ": loading state snapshots from disk is not supported", ErrorKind::unsupported);
  }

  // Metrics: the most device (GPU) memory this model has held at once, weights included; 0 when the
  // model has no device memory or does not track it.
  virtual size_t peak_device_bytes() const { return 0; }
};

}  // namespace hearth::engine
