#include "engine/scripted_model.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <thread>

#include "util/error.h"

namespace hearth::engine {
namespace {

// The sequence and the reply it was following (so that a restore — speculative decoding's rollback —
// goes on with the same reply instead of asking the responder again).
class ScriptedSnapshot : public StateSnapshot {
 public:
  ScriptedSnapshot(std::vector<Token> sequence, std::optional<std::pair<ScriptedReply, int64_t>> script)
      : sequence_(std::move(sequence)), script_(std::move(script)) {}
  const std::optional<std::pair<ScriptedReply, int64_t>>& script() const { return script_; }
  int64_t position() const override { return int64_t(sequence_.size()); }
  size_t device_bytes() const override { return 0; }
  size_t host_bytes() const override { return sequence_.size() * sizeof(Token); }
  const std::vector<Token>& sequence() const { return sequence_; }

 private:
  std::vector<Token> sequence_;
  std::optional<std::pair<ScriptedReply, int64_t>> script_;  // the reply and where it started
};

}  // namespace

ScriptedModel::ScriptedModel(ScriptedModelOptions options) : options_(std::move(options)) {
  if (options_.vocab_size <= 0) throw Error("scripted model: vocab_size must be positive", ErrorKind::invalid_request);
  if (!options_.responder) throw Error("scripted model: a responder is required", ErrorKind::invalid_request);
  if (options_.end_token < 0 || options_.end_token >= options_.vocab_size) {
    throw Error("scripted model: end_token outside the vocabulary", ErrorKind::invalid_request);
  }
  if (options_.slots < 1) throw Error("scripted model: at least one slot is required", ErrorKind::invalid_request);
  info_.architecture = "scripted";
  info_.vocab_size = options_.vocab_size;
  info_.max_context = options_.max_context;
  info_.slots = options_.slots;
  info_.description = "scripted model (replies from a script, for tests and demos)";
  slots_.resize(size_t(options_.slots));
}

ScriptedModel::Slot& ScriptedModel::at(SlotId slot) const {
  if (slot < 0 || slot >= info_.slots) {
    throw Error("scripted model: slot " + std::to_string(slot) + " does not exist (" + std::to_string(info_.slots) + " slots)",
                ErrorKind::internal);
  }
  return slots_[size_t(slot)];
}

void ScriptedModel::reset_slot(SlotId slot) {
  Slot& s = at(slot);
  s.sequence.clear();
  s.script_valid = false;
  s.checked_up_to = 0;
  s.rows.clear();
}

void ScriptedModel::forward(std::span<const SlotTokens> batch) {
  for (const SlotTokens& e : batch) {  // validate everything before touching any slot
    const Slot& s = at(e.slot);
    if (e.tokens.empty()) throw Error("scripted model: forward needs at least one token per entry", ErrorKind::internal);
    if (options_.max_context > 0 && int64_t(s.sequence.size() + e.tokens.size()) > options_.max_context) {
      throw Error("scripted model: sequence would exceed max_context " + std::to_string(options_.max_context),
                  ErrorKind::invalid_request);
    }
    for (Token t : e.tokens) {
      if (t < 0 || t >= options_.vocab_size) throw Error("scripted model: token id out of range", ErrorKind::internal);
    }
    if (e.logit_rows < 1 || e.logit_rows > kMaxLogitRows || size_t(e.logit_rows) > e.tokens.size()) {
      throw Error("scripted model: logit_rows out of range", ErrorKind::internal);
    }
    for (const SlotTokens& other : batch) {
      if (&other != &e && other.slot == e.slot) throw Error("scripted model: a slot appears twice in one forward", ErrorKind::internal);
    }
  }
  // A decode step (one token following the script) sleeps like a real model would take time.
  std::chrono::milliseconds delay{0};
  for (const SlotTokens& e : batch) {
    Slot& s = at(e.slot);
    const bool follows_script = s.script_valid && e.tokens.size() == 1 && int64_t(s.sequence.size()) >= s.script_start;
    if (follows_script) delay = std::max(delay, s.script.token_delay);
    s.rows.clear();
    const size_t first_row = e.tokens.size() - size_t(e.logit_rows);
    s.sequence.insert(s.sequence.end(), e.tokens.begin(), e.tokens.begin() + long(first_row));
    for (size_t i = first_row; i < e.tokens.size(); ++i) {  // as one-token steps would see the script
      s.sequence.push_back(e.tokens[i]);
      if (i + 1 < e.tokens.size()) s.rows.push_back(std::vector<float>(slot_logits(e.slot).begin(), slot_logits(e.slot).end()));
    }
  }
  if (delay.count() > 0) std::this_thread::sleep_for(delay);
}

// The reply stays valid while every token appended since it started is the scripted one; otherwise
// (a new prompt, a sampled token off the script) the responder chooses again from the whole sequence.
void ScriptedModel::update_script(Slot& s) const {
  if (s.script_valid) {
    for (int64_t i = std::max(s.checked_up_to, s.script_start); i < int64_t(s.sequence.size()); ++i) {
      const int64_t offset = i - s.script_start;
      if (offset >= int64_t(s.script.tokens.size()) || s.sequence[size_t(i)] != s.script.tokens[size_t(offset)]) {
        s.script_valid = false;
        break;
      }
    }
  }
  if (!s.script_valid) {
    ++responder_calls_;
    s.script = options_.responder(s.sequence);
    s.script_start = int64_t(s.sequence.size());
    s.script_valid = true;
  }
  s.checked_up_to = int64_t(s.sequence.size());
}

std::span<const float> ScriptedModel::slot_logits(SlotId slot) const {
  Slot& s = at(slot);
  if (s.sequence.empty()) throw Error("scripted model: logits before any prefill", ErrorKind::internal);
  update_script(s);
  const int64_t offset = int64_t(s.sequence.size()) - s.script_start;
  const Token next = offset < int64_t(s.script.tokens.size()) ? s.script.tokens[size_t(offset)] : options_.end_token;
  s.logits.assign(size_t(options_.vocab_size), 0.0f);
  if (next >= 0 && next < options_.vocab_size) s.logits[size_t(next)] = 30.0f;  // all but certain at T=1
  return s.logits;
}

std::span<const float> ScriptedModel::slot_row_logits(SlotId slot, int32_t row) const {
  Slot& s = at(slot);
  if (row >= 0 && size_t(row) < s.rows.size()) return s.rows[size_t(row)];
  if (size_t(row) == s.rows.size()) return slot_logits(slot);
  throw Error("scripted model: no logits row " + std::to_string(row), ErrorKind::internal);
}

std::unique_ptr<StateSnapshot> ScriptedModel::save_slot(SlotId slot) const {
  const Slot& s = at(slot);
  std::optional<std::pair<ScriptedReply, int64_t>> script;
  if (s.script_valid) script.emplace(s.script, s.script_start);
  return std::make_unique<ScriptedSnapshot>(s.sequence, std::move(script));
}

void ScriptedModel::restore_slot(SlotId slot, const StateSnapshot& snapshot) {
  const auto* snap = dynamic_cast<const ScriptedSnapshot*>(&snapshot);
  if (!snap) throw Error("scripted model: snapshot made by another model", ErrorKind::internal);
  Slot& s = at(slot);
  s.sequence = snap->sequence();
  s.script_valid = snap->script().has_value();
  if (s.script_valid) s.script = snap->script()->first, s.script_start = snap->script()->second;
  s.checked_up_to = 0;
  s.rows.clear();
}

}  // namespace hearth::engine
