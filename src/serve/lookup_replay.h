#pragma once
// What prompt-lookup drafting would have bought on a recorded turn, teacher-forced: the turn's tokens
// are the truth; at each step the drafter proposes from the history so far, the "verifier" accepts the
// longest prefix of the proposal that matches the truth and adds one token of its own (as a real
// verification step does: the model's token after the last accepted one), and the history advances by
// what was produced. The cost of each step comes from a table of verification costs measured on the
// engine (a k-token forward pass over a one-token one), so the result is the decode speed-up implied.
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "serve/prompt_lookup.h"

namespace hearth::serve {

// Cost of a forward pass of k tokens (the pending token plus k - 1 drafts) relative to a one-token
// decode step, from points "k:ratio,...": linear between points, extended along the last segment
// beyond the last point, 1.0 for k = 1 unless given.
class VerifyCostTable {
 public:
  VerifyCostTable();  // the default: 1:1.0,2:1.05,4:1.15,8:1.4 (to be replaced by measured figures)
  // Throws hearth::Error(invalid_request) naming the bad entry.
  static VerifyCostTable parse(const std::string& text);
  double cost(int tokens) const;
  std::string describe() const;  // "1:1,2:1.05,..."

 private:
  std::vector<std::pair<int, double>> points_;  // ascending k
};

struct LookupStats {
  int64_t turns = 0;
  int64_t tokens = 0;         // tokens of the turns (what plain decoding spends one step each on)
  int64_t steps = 0;          // verification (forward) steps with drafting
  int64_t draft_steps = 0;    // steps that had a proposal to verify
  int64_t drafted = 0;        // tokens proposed
  int64_t accepted = 0;       // proposed tokens that matched
  double cost = 0;            // sum of the steps' costs, in one-token steps

  double acceptance_rate() const { return drafted ? double(accepted) / double(drafted) : 0.0; }
  double accepted_fraction() const { return tokens ? double(accepted) / double(tokens) : 0.0; }  // of the turn's tokens
  double tokens_per_step() const { return steps ? double(tokens) / double(steps) : 0.0; }        // mean accepted length (with the verifier's own token)
  double accepted_per_draft_step() const { return draft_steps ? double(accepted) / double(draft_steps) : 0.0; }
  double speedup() const { return cost > 0 ? double(tokens) / cost : 1.0; }
  LookupStats& operator+=(const LookupStats& other);
};

// Replays one turn: `drafter` holds the history before the turn and has `turn` appended by the end.
// The draft length starts over (a turn is a new request's generation).
LookupStats replay_turn(PromptLookupDrafter& drafter, std::span<const int32_t> turn, const VerifyCostTable& costs);

}  // namespace hearth::serve
