#pragma once
// The demo model's random weights almost never pick the end-of-turn token (1 in ~150k per step), so a
// reply would run until the output limit: minutes on a CPU for a client like Claude Code that asks for
// 32000 tokens. This wrapper makes the end-of-turn token certain once a reply has `reply_tokens` tokens,
// so the demo ends its turns the way a trained model does (stop_reason end_turn), in seconds.
#include <cstdint>
#include <memory>

#include "engine/model.h"

namespace hearth::engine {

struct DemoReplyEnd {
  Token turn_start = -1;       // <|im_start|>: a reply's length counts from the last one in the sequence
  Token turn_end = -1;         // <|im_end|>: made certain once the reply is long enough
  int64_t reply_tokens = 48;   // tokens after turn_start (role line included) before the turn ends
};

// Wraps `model`; everything but slot_logits() passes through (snapshots carry the reply's start along).
std::unique_ptr<Model> end_demo_replies(std::unique_ptr<Model> model, DemoReplyEnd options);

}  // namespace hearth::engine
