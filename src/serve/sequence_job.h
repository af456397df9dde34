#pragma once
// One sequence as the scheduler (serve/scheduler.h) runs it: a prompt in token ids, how to sample, when
// to stop, and callbacks. Token-level only, like engine::generate(): the caller turns tokens into text
// and events inside on_token. Every callback runs on the scheduler's thread, between two model steps,
// so it must be quick and must never block (a slow client would stall every other sequence): hand
// anything slow to another thread (serve/generation_channel.h).
#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <span>
#include <vector>

#include "cache/checkpoint_planner.h"
#include "cache/prompt_cache.h"
#include "engine/generator.h"
#include "engine/model.h"
#include "engine/sampling.h"

namespace hearth::serve {

using engine::Token;

struct SequenceCallbacks {
  // The slot is chosen and the prompt cache has put it in its deepest reusable state (outcome's
  // reused_tokens); called before any model step of this sequence.
  std::function<void(const cache::CacheOutcome&)> on_admitted;
  // Each generated token (not the stop token); return false to stop after it.
  std::function<bool(Token)> on_token;
  // How the generation ended, in the prompt cache's terms (which end states are worth keeping:
  // cache/checkpoint_planner.h). Called once, before the cache records the end.
  std::function<cache::GenerationEnd(const engine::GenerateResult&)> generation_end;
  // The last call for a sequence that ran: its result and what the cache did for it.
  std::function<void(const engine::GenerateResult&, const cache::CacheOutcome&)> on_finished;
  // The last call for a sequence that failed (a model step threw, or a callback did).
  std::function<void(std::exception_ptr)> on_failed;
};

struct SequenceJob {
  std::vector<Token> prompt;               // everything the model must have seen before the first sample
  cache::PromptLayout layout;              // the prompt's boundaries for the prompt cache
  engine::SamplingParams sampling;         // the seed makes a request's samples independent of its batch
  int64_t max_new_tokens = 0;
  std::vector<Token> stop_tokens;          // ended on, not passed to on_token
  // Optional: ids allowed for the next token given what was generated so far (empty = anything).
  std::function<std::vector<Token>(std::span<const Token> generated)> allowed_next;
  // Checked at every step boundary. cancel: the client is gone (FinishReason::cancelled). stop: the
  // consumer wants no more tokens, decided on another thread (a stop sequence matched in the API layer;
  // FinishReason::callback_stop). Either may be null. They must outlive the job's last callback.
  const std::atomic<bool>* cancel = nullptr;
  const std::atomic<bool>* stop = nullptr;
  SequenceCallbacks callbacks;
};

}  // namespace hearth::serve
