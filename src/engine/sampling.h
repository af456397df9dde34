#pragma once
// Sampling settings and the token sampler (engine/sampler.cpp). Greedy when temperature <= 0.
#include <cstdint>
#include <span>
#include <vector>

#include "engine/model.h"

namespace hearth::engine {

struct SamplingParams {
  float temperature = 1.0f;      // <= 0: greedy
  float top_p = 1.0f;            // 1: off
  int32_t top_k = 0;             // 0: off
  float min_p = 0.0f;            // 0: off
  float repetition_penalty = 1.0f;  // 1: off (CTRL-style: divide positive logits, multiply negative)
  float presence_penalty = 0.0f;    // 0: off (subtract once per distinct token seen)
  uint64_t seed = 0;
  // Ids >= vocab_limit are never sampled: a model's embedding is often padded past its tokenizer's
  // vocabulary (to a multiple of 64 or 256), and a padded id has no text. 0: no limit.
  int64_t vocab_limit = 0;
};

}  // namespace hearth::engine

namespace hearth::engine {

// Seeded random source for sampling (xoshiro-style; reproducible across platforms).
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t next_u64();
  float next_float();  // [0, 1)

 private:
  uint64_t s_[4];
};

// Picks the next token from `logits`. `history` is the sequence so far (prompt and generated) for the
// penalties. `allowed`, when non-empty, restricts the choice to those ids (constrained decoding).
// Only ids below params.vocab_limit (when set) and below logits.size() can be chosen.
Token sample_token(std::span<const float> logits, const SamplingParams& params, std::span<const Token> history,
                   std::span<const Token> allowed, Rng& rng);

// The same choice for the logits of `slot` of `model`. When the choice depends only on the best k
// logits (greedy, or top-k up to kMaxTopLogits without penalties or an allowed set), only those are
// asked of the model (Model::slot_top_logits: on a GPU, k pairs cross the bus instead of the whole row);
// otherwise the whole row. Both give the same token for the same Rng state.
Token sample_next(const Model& model, SlotId slot, const SamplingParams& params, std::span<const Token> history,
                  std::span<const Token> allowed, Rng& rng);

// The candidates sample_next draws from for logits row `row` of `slot` (Model::slot_row_logits; -1: the
// last logits, slot_logits): penalties applied, only the best when greedy. draw() picks among them.
std::vector<TokenLogit> next_candidates(const Model& model, SlotId slot, int32_t row, const SamplingParams& params,
                                        std::span<const Token> history, std::span<const Token> allowed);

// The probabilities draw() picks `candidates` with (after temperature, top-k, min-p and top-p), in the
// order of the candidates it leaves; a point mass on the best when greedy. Speculative sampling
// (engine/generator.cpp) accepts a drafted token with its probability here.
struct TokenProb {
  Token id = 0;
  double p = 0;
};
std::vector<TokenProb> draw_distribution(std::vector<TokenLogit> candidates, const SamplingParams& params);
// Picks from a distribution (its probabilities summing to ~1) with one number of `rng`.
Token pick(std::span<const TokenProb> distribution, Rng& rng);

// Whether sampling with these settings needs only the best `max_k` logits.
bool samples_from_top_k(const SamplingParams& params, std::span<const Token> history, std::span<const Token> allowed,
                        int32_t max_k);

// The draw after candidate selection: temperature, min-p, top-p over `candidates` (top-k applied when
// there are more than params.top_k). Candidates that come from a top-k selection must be best first.
Token draw(std::vector<TokenLogit> candidates, const SamplingParams& params, Rng& rng);

}  // namespace hearth::engine
