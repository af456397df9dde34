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
  int32_t slots = 1;            // sequences held at once (each follows its own script)
  Token end_token = 0;          // favoured once the reply is exhausted (e.g. <|im_end|>)
  ScriptResponder responder;
};

class ScriptedModel : public Model {
 public:
  explicit ScriptedModel(ScriptedModelOptions options);

  const ModelInfo& info() const override { return info_; }
  void reset_slot(SlotId slot) override;
  // A call whose entries include a decode step on the script sleeps the script's token_delay once, the
  // way one batched step of a real model takes one step's time whatever the batch.
  void forward(std::span<const SlotTokens> batch) override;
  std::span<const float> slot_logits(SlotId slot) const override;
  std::span<const float> slot_row_logits(SlotId slot, int32_t row) const override;
  int64_t slot_position(SlotId slot) const override { return int64_t(at(slot).sequence.size()); }
  std::unique_ptr<StateSnapshot> save_slot(SlotId slot) const override;
  void restore_slot(SlotId slot, const StateSnapshot& snapshot) override;

  int64_t responder_calls() const { return responder_calls_; }

 private:
  struct Slot {
    std::vector<Token> sequence;
    // The reply in progress starts at script_start; script_valid until the sequence leaves it.
    ScriptedReply script;
    int64_t script_start = 0;
    bool script_valid = false;
    int64_t checked_up_to = 0;  // sequence prefix already compared against the script
    std::vector<float> logits;
    // The last entry's logits rows before its last (an entry with logit_rows > 1 runs token by token).
    std::vector<std::vector<float>> rows;
  };
  Slot& at(SlotId slot) const;  // slots_ is mutable: logits follow the script lazily
  void update_script(Slot& s) const;

  ScriptedModelOptions options_;
  ModelInfo info_;
  mutable std::vector<Slot> slots_;
  mutable int64_t responder_calls_ = 0;
};

}  // namespace hearth::engine
