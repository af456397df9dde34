#pragma once
// One request's generation, split over two threads. On the scheduler's thread (serve/scheduler.h) the
// job's callbacks parse each token into content events (chat::OutputParser) and decide the stops that
// depend on tokens alone (stop tokens, budget, the single-call limit); they post what happened to a
// channel (serve/generation_channel.h). On the request's own thread run_request() takes the messages
// and calls the API layer's hooks, which may block on a slow client.
//
// A stop sequence is matched in the API layer (inside hooks.on_event), so it is learnt on the request's
// thread: it raises the job's stop flag, which the scheduler reads at its next step boundary. The few
// tokens it may have generated meanwhile are dropped here: the events, the usage and the stop reason
// are exactly those of a generation that stopped right after the matching token.
#include <memory>
#include <vector>

#include "api/backend.h"
#include "chat/tokenizer.h"
#include "engine/model.h"
#include "serve/request_plan.h"
#include "serve/scheduler.h"

namespace hearth::serve {

struct RequestRunContext {
  Scheduler* scheduler = nullptr;
  const chat::Tokenizer* tokenizer = nullptr;
  const engine::Model* model = nullptr;         // for its peak memory figure, read on the scheduler's thread
  std::vector<chat::Token> stop_tokens;          // end of turn
  bool format_keeps_reasoning = false;           // the prompt cache's end-of-generation rule
};

// Blocks until the request is over. Throws what the model step or a callback threw.
api::GenerationOutcome run_request(const RequestRunContext& context, const RequestPlan& plan,
                                   const api::GenerationHooks& hooks);

}  // namespace hearth::serve
