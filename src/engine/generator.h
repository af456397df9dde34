#pragma once
// The decode loop over a Model: prefill the prompt (in chunks, cancellable between chunks), then sample
// and append one token at a time until a stop token, the token budget, a callback's stop, or cancellation.
// With a Drafter (speculative decoding, engine/speculative.h) each step also verifies the drafter's
// guess in the same forward pass; the tokens are the same (greedy: bit for bit on the CPU reference;
// sampling: the same distribution), only fewer passes run.
// Knows nothing about text: stop sequences and tool-call forcing are expressed by the caller through the
// token callback and the constraint hook.
#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "engine/model.h"
#include "engine/sampling.h"
#include "engine/speculative.h"

namespace hearth::engine {

enum class FinishReason { stop_token, max_tokens, callback_stop, cancelled, context_full };

struct GenerateParams {
  SlotId slot = 0;                           // the model's sequence slot to run in
  SamplingParams sampling;
  int64_t max_new_tokens = 256;
  std::vector<Token> stop_tokens;            // ended on, not passed to on_token
  int64_t prefill_chunk = 512;               // prompt tokens per prefill() call
  const std::atomic<bool>* cancel = nullptr; // checked between prefill chunks and decode steps
  // Called with each generated token; return false to stop after it (e.g. a stop sequence matched).
  std::function<bool(Token)> on_token;
  // Optional: ids allowed for the next token given what was generated so far (empty = anything).
  std::function<std::vector<Token>(std::span<const Token> generated)> allowed_next;
  // Prompt cache (cache/prompt_cache.h): prefill chunks end exactly at these prompt positions (ascending)
  // and on_checkpoint(position) is called there, so that the model's state can be saved at that point.
  std::vector<int64_t> checkpoint_positions;
  std::function<void(int64_t position)> on_checkpoint;
  // Speculative decoding: proposes tokens after each sampled one (nullptr: off). generate() appends the
  // prompt and every generated token to it. Not used while allowed_next constrains the tokens.
  Drafter* drafter = nullptr;
  int32_t max_draft = kMaxLogitRows - 1;      // drafted tokens verified per step at most
};

struct GenerateResult {
  FinishReason finish = FinishReason::stop_token;
  std::vector<Token> generated;              // without the stop token
  int64_t prompt_tokens = 0;
  int64_t prefilled_tokens = 0;              // prompt tokens actually run (the rest came from a cache)
  double prefill_seconds = 0;
  double decode_seconds = 0;
  double first_token_seconds = 0;            // from start of call to first generated token
  int64_t verify_steps = 0;                  // forward passes that verified drafts
  int64_t drafted = 0;                       // drafted tokens verified
  int64_t accepted = 0;                      // of those, the ones the model agreed with
};

// Runs `prompt` from the slot's current state: the first `model.slot_position(slot)` tokens of `prompt`
// are assumed to be in the state already (the cache restored them), and only the rest is prefilled.
// One sequence at a time (tools, benchmarks, cache replay); the server batches in serve/scheduler.h.
GenerateResult generate(Model& model, std::span<const Token> prompt, const GenerateParams& params);

}  // namespace hearth::engine
