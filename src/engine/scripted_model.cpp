#include "engine/scripted_model.h"

#include <thread>

#include "util/error.h"

namespace hearth::engine {
namespace {

class ScriptedSnapshot : public StateSnapshot {
 public:
  explicit ScriptedSnapshot(std::vector<Token> sequence) : sequence_(std::move(sequence)) {}
  int64_t position() const override { return int64_t(sequence_.size()); }
  size_t device_bytes() const override { return 0; }
  size_t host_bytes() const override { return sequence_.size() * sizeof(Token); }
  const std::vector<Token>& sequence() const { return sequence_; }

 private:
  std::vector<Token> sequence_;
};

}  // namespace

ScriptedModel::ScriptedModel(ScriptedModelOptions options) : options_(std::move(options)) {
  if (options_.vocab_size <= 0) throw Error("scripted model: vocab_size must be positive", ErrorKind::invalid_request);
  if (!options_.responder) throw Error("scripted model: a responder is required", ErrorKind::invalid_request);
  if (options_.end_token < 0 || options_.end_token >= options_.vocab_size) {
    throw Error("scripted model: end_token outside the vocabulary", ErrorKind::invalid_request);
  }
  info_.architecture = "scripted";
  info_.vocab_size = options_.vocab_size;
  info_.max_context = options_.max_context;
  info_.description = "scripted model (replies from a script, for tests and demos)";
}

void ScriptedModel::reset() {
  sequence_.clear();
  script_valid_ = false;
  checked_up_to_ = 0;
}

void ScriptedModel::prefill(std::span<const Token> tokens) {
  if (tokens.empty()) throw Error("scripted model: prefill needs at least one token", ErrorKind::internal);
  if (options_.max_context > 0 && int64_t(sequence_.size() + tokens.size()) > options_.max_context) {
    throw Error("scripted model: sequence would exceed max_context " + std::to_string(options_.max_context),
                ErrorKind::invalid_request);
  }
  for (Token t : tokens) {
    if (t < 0 || t >= options_.vocab_size) throw Error("scripted model: token id out of range", ErrorKind::internal);
  }
  // A decode step (one token following the script) sleeps like a real model would take time.
  const bool follows_script = script_valid_ && tokens.size() == 1 && int64_t(sequence_.size()) >= script_start_;
  sequence_.insert(sequence_.end(), tokens.begin(), tokens.end());
  if (follows_script && script_.token_delay.count() > 0) std::this_thread::sleep_for(script_.token_delay);
}

// The reply stays valid while every token appended since it started is the scripted one; otherwise
// (a new prompt, a sampled token off the script) the responder chooses again from the whole sequence.
void ScriptedModel::update_script() const {
  if (script_valid_) {
    for (int64_t i = std::max(checked_up_to_, script_start_); i < int64_t(sequence_.size()); ++i) {
      const int64_t offset = i - script_start_;
      if (offset >= int64_t(script_.tokens.size()) || sequence_[size_t(i)] != script_.tokens[size_t(offset)]) {
        script_valid_ = false;
        break;
      }
    }
  }
  if (!script_valid_) {
    ++responder_calls_;
    script_ = options_.responder(sequence_);
    script_start_ = int64_t(sequence_.size());
    script_valid_ = true;
  }
  checked_up_to_ = int64_t(sequence_.size());
}

std::span<const float> ScriptedModel::logits() const {
  if (sequence_.empty()) throw Error("scripted model: logits() before any prefill", ErrorKind::internal);
  update_script();
  const int64_t offset = int64_t(sequence_.size()) - script_start_;
  const Token next = offset < int64_t(script_.tokens.size()) ? script_.tokens[size_t(offset)] : options_.end_token;
  logits_.assign(size_t(options_.vocab_size), 0.0f);
  if (next >= 0 && next < options_.vocab_size) logits_[size_t(next)] = 30.0f;  // all but certain at T=1
  return logits_;
}

std::unique_ptr<StateSnapshot> ScriptedModel::save_state() const { return std::make_unique<ScriptedSnapshot>(sequence_); }

void ScriptedModel::restore_state(const StateSnapshot& snapshot) {
  const auto* s = dynamic_cast<const ScriptedSnapshot*>(&snapshot);
  if (!s) throw Error("scripted model: snapshot made by another model", ErrorKind::internal);
  sequence_ = s->sequence();
  script_valid_ = false;
  checked_up_to_ = 0;
}

}  // namespace hearth::engine
