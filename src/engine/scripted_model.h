#pragma once
// A Model whose "logits" follow a script: after the prompt, it puts all the weight on the next token of
// a reply that a responder callback chose by looking at the prompt's tokens, then on `end_token`.
// Everything above the model seam (sampling, rendering, parsing, the API) runs for real in tests; the
// engine never sees text, so building replies from text lives above (chat/scripted_responder.h).
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "engine/model.h"

namespace hearth::engine {

struct ScriptedReply {
  std::vector<Token> tokens;                        // the reply, without the end token
  std::chrono::milliseconds token_delay{0};         // each decode step sleeps this long (queue/cancel tests)
};

// Called with the whole sequence so far whenever it stops following the current reply (a new prompt).
using ScriptResponder = std::function<ScriptedReply(std::span<const Token> sequence)>;

struct ScriptedModelOptions {
  int64_t vocab_size = 0;
  int64_t max_context = 32768;
  Token end_token = 0;          // favoured once the reply is exhausted (e.g. <|im_end|>)
  ScriptResponder responder;
};

class ScriptedModel : public Model {
 public:
  explicit ScriptedModel(ScriptedModelOptions options);

  const ModelInfo& info() const override { return info_; }
  void reset() override;
  void prefill(std::span<const Token> tokens) override;
  std::span<const float> logits() const override;
  int64_t position() const override { return int64_t(sequence_.size()); }
  std::unique_ptr<StateSnapshot> save_state() const override;
  void restore_state(const StateSnapshot& snapshot) override;

  int64_t responder_calls() const { return responder_calls_; }

 private:
  void update_script() const;

  ScriptedModelOptions options_;
  ModelInfo info_;
  std::vector<Token> sequence_;
  // The reply in progress starts at script_start_; script_valid_ until the sequence leaves it.
  mutable ScriptedReply script_;
  mutable int64_t script_start_ = 0;
  mutable bool script_valid_ = false;
  mutable int64_t checked_up_to_ = 0;       // sequence prefix already compared against the script
  mutable std::vector<float> logits_;
  mutable int64_t responder_calls_ = 0;
};

}  // namespace hearth::engine
