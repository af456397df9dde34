// The decode loop over a Model (engine/generator.h).
#include "engine/generator.h"

#include <algorithm>
#include <chrono>
#include <optional>

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
  Drafter* drafter = params.allowed_next ? nullptr : params.drafter;
  if (drafter) drafter->append(prompt);
  result.finish = FinishReason::max_tokens;
  auto budget_left = [&] { return params.max_new_tokens - int64_t(result.generated.size()); };
  // A token the model chose: ends the generation (false) on a stop token or the callback's stop, else
  // joins the output.
  auto emit = [&](Token token) {
    if (std::find(params.stop_tokens.begin(), params.stop_tokens.end(), token) != params.stop_tokens.end()) {
      result.finish = FinishReason::stop_token;
      return false;
    }
    result.generated.push_back(token);
    history.push_back(token);
    if (drafter) drafter->append(std::span(&token, 1));
    if (params.on_token && !params.on_token(token)) {
      result.finish = FinishReason::callback_stop;
      return false;
    }
    return true;
  };
  std::optional<Token> chosen;  // the verifier's token after a rejected draft, not sampled again
  while (budget_left() > 0) {
    if (cancelled(params)) {
      result.finish = FinishReason::cancelled;
      break;
    }
    Token token;
    if (chosen) {
      token = *chosen;
      chosen.reset();
    } else {
      std::vector<Token> allowed;
      if (params.allowed_next) allowed = params.allowed_next(result.generated);
      token = sample_next(model, slot, params.sampling, history, allowed, rng);
    }
    if (result.first_token_seconds == 0) result.first_token_seconds = seconds_since(start);
    if (!emit(token) || budget_left() == 0) break;  // budget spent: no need to run the last token
    const int64_t position = model.slot_position(slot);
    if (max_context > 0 && position + 1 > max_context) {
      result.finish = FinishReason::context_full;
      break;
    }
    // Drafts that fit the context and leave the budget one token of the model's own.
    std::vector<Token> run{token};
    if (drafter) {
      int64_t room = std::min<int64_t>({params.max_draft, kMaxLogitRows - 1, budget_left() - 1});
      if (max_context > 0) room = std::min(room, max_context - position - 1);
      if (room > 0) {
        std::vector<Token> drafts = drafter->propose(int32_t(room));
        if (int64_t(drafts.size()) > room) drafts.resize(size_t(room));
        run.insert(run.end(), drafts.begin(), drafts.end());
      }
    }
    if (run.size() == 1) {
      forward(run);
      continue;
    }
    // Verification: the pending token and the drafts in one pass, a logits row after each.
    const std::unique_ptr<StateSnapshot> before = model.save_slot(slot);
    const SlotTokens entry{slot, run, int32_t(run.size())};
    model.forward(std::span(&entry, 1));
    const std::span<const Token> drafts = std::span<const Token>(run).subspan(1);
    const Verification v = verify_drafts(model, slot, drafts, params.sampling, history, rng);
    ++result.verify_steps;
    result.drafted += int64_t(drafts.size());
    result.accepted += v.accepted;
    drafter->feedback(int32_t(drafts.size()), v.accepted);
    // The accepted drafts are emitted like sampled tokens; the sequence keeps what plain decoding would
    // have run: every emitted token but one that ended the generation.
    size_t keep = 1;
    bool finished = false;
    for (int32_t i = 0; i < v.accepted && !finished; ++i) {
      finished = !emit(drafts[size_t(i)]) || budget_left() == 0;
      if (!finished) ++keep;
    }
    if (keep < run.size()) {
      model.restore_slot(slot, *before);
      forward(std::span<const Token>(run).first(keep));
    }
    if (finished) break;
    chosen = v.next;
  }
  result.decode_seconds = seconds_since(decode_start);
  return result;
}

}  // namespace hearth::engine
