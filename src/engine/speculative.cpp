// Verification of drafted tokens (engine/speculative.h).
#include "engine/speculative.h"

#include "util/error.h"

namespace hearth::engine {

Verification verify_drafts(const Model& model, SlotId slot, std::span<const Token> drafts, const SamplingParams& params,
                           std::span<const Token> history, Rng& rng) {
  if (drafts.size() + 1 > size_t(kMaxLogitRows)) throw Error("verify_drafts: too many drafts", ErrorKind::internal);
  std::vector<Token> seen(history.begin(), history.end());  // the sequence each row's penalties see
  Verification v;
  for (size_t i = 0; i < drafts.size(); ++i) {
    const Token draft = drafts[i];
    std::vector<TokenLogit> candidates = next_candidates(model, slot, int32_t(i), params, seen, {});
    if (params.temperature <= 0.0f) {
      const Token target = draw(std::move(candidates), params, rng);  // greedy: no random number drawn
      if (target != draft) {
        v.next = target;
        return v;
      }
    } else {
      std::vector<TokenProb> q = draw_distribution(std::move(candidates), params);
      double q_draft = 0;
      for (const TokenProb& t : q) {
        if (t.id == draft) q_draft = t.p;
      }
      if (double(rng.next_float()) >= q_draft) {
        std::vector<TokenProb> rest;
        for (const TokenProb& t : q) {
          if (t.id != draft) rest.push_back({t.id, t.p / (1.0 - q_draft)});
        }
        v.next = pick(rest, rng);
        return v;
      }
    }
    ++v.accepted;
    seen.push_back(draft);
  }
  return v;
}

}  // namespace hearth::engine
