#include "cache/checkpoint_planner.h"

#include <algorithm>
#include <cstdlib>

namespace hearth::cache {

std::vector<PlannedCheckpoint> plan_checkpoints(const PromptLayout& layout, int64_t resume_position,
                                                const PlanOptions& options) {
  std::vector<PlannedCheckpoint> anchors;
  std::vector<PlannedCheckpoint> ordinary;  // message ends, deepest last
  for (const Boundary& b : layout.boundaries) {
    if (b.position <= resume_position || b.position > layout.prompt_tokens) continue;
    (is_anchor(b.kind) ? anchors : ordinary).push_back({b.position, b.kind});
  }
  if (ordinary.size() > static_cast<size_t>(std::max(options.max_message_checkpoints, 0))) {
    ordinary.erase(ordinary.begin(), ordinary.end() - std::max(options.max_message_checkpoints, 0));
  }
  if (options.prompt_end && layout.prompt_tokens > resume_position) {
    ordinary.push_back({layout.prompt_tokens, CheckpointKind::prompt_end});
  }

  std::vector<PlannedCheckpoint> plan = anchors;
  std::vector<int64_t> taken{resume_position};
  for (const PlannedCheckpoint& a : anchors) taken.push_back(a.position);
  // Message ends deepest first, then the prompt end: when two candidates crowd each other the deeper
  // message end is kept, and a message end wins over the prompt end a few tokens after it.
  auto rank = [](const PlannedCheckpoint& c) { return c.kind == CheckpointKind::prompt_end ? 1 : 0; };
  std::sort(ordinary.begin(), ordinary.end(), [&](const PlannedCheckpoint& x, const PlannedCheckpoint& y) {
    if (rank(x) != rank(y)) return rank(x) < rank(y);
    return x.position > y.position;
  });
  for (const PlannedCheckpoint& c : ordinary) {
    bool crowded = std::any_of(taken.begin(), taken.end(), [&](int64_t p) { return std::llabs(p - c.position) < options.min_gap; });
    if (crowded) continue;
    plan.push_back(c);
    taken.push_back(c.position);
  }
  // Anchors were pushed first, so at an equal position the anchor kind survives the dedup.
  std::stable_sort(plan.begin(), plan.end(),
                   [](const PlannedCheckpoint& x, const PlannedCheckpoint& y) { return x.position < y.position; });
  plan.erase(std::unique(plan.begin(), plan.end(), [](const PlannedCheckpoint& x, const PlannedCheckpoint& y) {
               return x.position == y.position;
             }),
             plan.end());
  return plan;
}

bool generation_end_worth_saving(const GenerationEnd& end) {
  if (end.stop != GenerationStop::end_of_turn) return false;
  return end.tool_calls > 0 || end.format_keeps_reasoning;
}

}  // namespace hearth::cache
