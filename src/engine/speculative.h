#pragma once
// Speculative decoding's two halves below the serve layer: the Drafter interface (what proposes tokens;
// prompt lookup lives in serve/prompt_lookup.h and is adapted by its caller) and the verification of a
// proposal against the target model's logits. engine::generate (generator.h) runs the loop around them:
// save the slot, forward the pending token and the drafts in one pass with a logits row each
// (SlotTokens::logit_rows), verify, and on a rejection restore the slot and re-run the kept tokens, so
// that the sequence is exactly what decoding only the kept tokens would have made — the DeltaNet's
// recurrent state cannot be cut back the way a KV cache can.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "engine/model.h"
#include "engine/sampling.h"

namespace hearth::engine {

// Proposes tokens that may follow the sequence. Deterministic given its history (a proposal is one
// guess, not a distribution: the acceptance rule in verify_drafts relies on it).
class Drafter {
 public:
  virtual ~Drafter() = default;
  // The sequence grows: the prompt at the start of a generation, then each generated token.
  virtual void append(std::span<const Token> tokens) = 0;
  // Up to `limit` tokens guessed to follow the sequence; empty when there is no guess.
  virtual std::vector<Token> propose(int32_t limit) = 0;
  // How many of the last proposal's `proposed` tokens the target model accepted.
  virtual void feedback(int32_t proposed, int32_t accepted) {}
};

struct Verification {
  int32_t accepted = 0;       // leading drafts the target model keeps
  // The target's own token after the accepted drafts when a draft was rejected (sampling: drawn from
  // the target distribution with the rejected draft taken out). Empty when every draft was accepted:
  // the next token is then sampled from the slot's logits as usual.
  std::optional<Token> next;
};

// Decides which of `drafts` the target model keeps, after forward() ran the pending token and the
// drafts as one entry with logit_rows = 1 + drafts.size() (row i: the target's logits for drafts[i]).
// `history` is the sequence up to and including the pending token (for the penalties).
//  greedy   — a draft is kept while it is the token greedy sampling picks; bit-identical output.
//  sampling — draft d (proposed with probability 1) is kept with probability q(d), q the distribution
//             sample_next draws from; on a rejection the token comes from q without d, renormalised:
//             P(d) = q(d) and P(x) = (1 - q(d)) · q(x) / (1 - q(d)) = q(x), so the output has the
//             target distribution exactly.
Verification verify_drafts(const Model& model, SlotId slot, std::span<const Token> drafts, const SamplingParams& params,
                           std::span<const Token> history, Rng& rng);

}  // namespace hearth::engine
