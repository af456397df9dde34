// The decode loop over a Model (engine/generator.h).
#include "engine/generator.h"

#include <algorithm>
#include <chrono>

#include "util/error.h"

namespace hearth::engine {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

bool cancelled(const GenerateParams& params) { return params.cancel && params.cancel->load(std::memory_order_relaxed); }

}  // namespace

GenerateResult generate(Model& model, std::span<const Token> prompt, const GenerateParams& params) {
  const auto start = std::chrono::steady_clock::now();
  GenerateResult result;
  result.prompt_tokens = int64_t(prompt.size());
  if (prompt.empty()) throw Error("generate: the prompt is empty", ErrorKind::invalid_request);
  const SlotId slot = params.slot;
  auto forward = [&](std::span<const Token> tokens) {
    const SlotTokens entry{slot, tokens};
    model.forward(std::span(&entry, 1));
  };
  const int64_t cached = model.slot_position(slot);
  // The model must still have at least the prompt's last token to run, or it has no logits for it.
  if (cached >= int64_t(prompt.size())) {
    throw Error("generate: the model state already covers the whole prompt (" + std::to_string(cached) +
                    " tokens); leave at least one token to prefill",
                ErrorKind::internal);
  }
  const int64_t max_context = model.info().max_context;
  if (max_context > 0 && int64_t(prompt.size()) > max_context) {
    result.finish = FinishReason::context_full;
    return result;
  }

  // Prefill in chunks, so that a cancelled request stops within one chunk. A chunk also ends at each
  // checkpoint position, where the prompt cache saves the state.
  const int64_t chunk = std::max<int64_t>(1, params.prefill_chunk);
  const std::vector<int64_t>& checkpoints = params.checkpoint_positions;
  size_t next_checkpoint = 0;
  for (int64_t pos = cached; pos < int64_t(prompt.size());) {
    if (cancelled(params)) {
      result.finish = FinishReason::cancelled;
      result.prefill_seconds = seconds_since(start);
      return result;
    }
    while (next_checkpoint < checkpoints.size() && checkpoints[next_checkpoint] <= pos) ++next_checkpoint;
    int64_t end = std::min<int64_t>(pos + chunk, int64_t(prompt.size()));
    if (next_checkpoint < checkpoints.size()) end = std::min(end, checkpoints[next_checkpoint]);
    forward(prompt.subspan(size_t(pos), size_t(end - pos)));
    result.prefilled_tokens += end - pos;
    pos = end;
    if (next_checkpoint < checkpoints.size() && checkpoints[next_checkpoint] == pos && params.on_checkpoint) {
      params.on_checkpoint(pos);
    }
  }
  result.prefill_seconds = seconds_since(start);
  const auto decode_start = std::chrono::steady_clock::now();

  std::vector<Token> history(prompt.begin(), prompt.end());
  Rng rng(params.sampling.seed);
  result.finish = FinishReason::max_tokens;
  for (int64_t step = 0; step < params.max_new_tokens; ++step) {
    if (cancelled(params)) {
      result.finish = FinishReason::cancelled;
      break;
    }
    std::vector<Token> allowed;
    if (params.allowed_next) allowed = params.allowed_next(result.generated);
    const Token token = sample_next(model, slot, params.sampling, history, allowed, rng);
    if (step == 0) result.first_token_seconds = seconds_since(start);
    if (std::find(params.stop_tokens.begin(), params.stop_tokens.end(), token) != params.stop_tokens.end()) {
      result.finish = FinishReason::stop_token;
      break;
    }
    result.generated.push_back(token);
    history.push_back(token);
    if (params.on_token && !params.on_token(token)) {
      result.finish = FinishReason::callback_stop;
      break;
    }
    if (step + 1 == params.max_new_tokens) break;  // budget spent: no need to run the last token
    if (max_context > 0 && model.slot_position(slot) + 1 > max_context) {
      result.finish = FinishReason::context_full;
      break;
    }
    const Token next[1] = {token};
    forward(next);
  }
  result.decode_seconds = seconds_since(decode_start);
  return result;
}

}  // namespace hearth::engine
