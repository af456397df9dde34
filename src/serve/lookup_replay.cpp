#include "serve/lookup_replay.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "util/error.h"

namespace hearth::serve {

VerifyCostTable::VerifyCostTable() : points_{{1, 1.0}, {2, 1.05}, {4, 1.15}, {8, 1.4}} {}

VerifyCostTable VerifyCostTable::parse(const std::string& text) {
  VerifyCostTable t;
  t.points_.clear();
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const size_t colon = item.find(':');
    char* end_k = nullptr;
    char* end_r = nullptr;
    const long k = colon == std::string::npos ? 0 : std::strtol(item.c_str(), &end_k, 10);
    const double r = colon == std::string::npos ? 0 : std::strtod(item.c_str() + colon + 1, &end_r);
    if (colon == std::string::npos || end_k != item.c_str() + colon || *end_r || k < 1 || k > 1024 || !(r > 0)) {
      throw Error("--verify-cost: '" + item + "' is not k:ratio (k a token count from 1, ratio positive)", ErrorKind::invalid_request);
    }
    for (const auto& [pk, _] : t.points_) {
      if (pk == k) throw Error("--verify-cost: k = " + std::to_string(k) + " given twice", ErrorKind::invalid_request);
    }
    t.points_.emplace_back(static_cast<int>(k), r);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (std::none_of(t.points_.begin(), t.points_.end(), [](const auto& p) { return p.first == 1; })) t.points_.emplace_back(1, 1.0);
  std::sort(t.points_.begin(), t.points_.end());
  return t;
}

double VerifyCostTable::cost(int tokens) const {
  if (points_.size() == 1 || tokens <= points_.front().first) return points_.front().second;
  for (size_t i = 1; i < points_.size(); ++i) {
    if (tokens <= points_[i].first || i + 1 == points_.size()) {
      const auto [k0, r0] = points_[i - 1];
      const auto [k1, r1] = points_[i];
      return r0 + (r1 - r0) * double(tokens - k0) / double(k1 - k0);
    }
  }
  return points_.back().second;
}

std::string VerifyCostTable::describe() const {
  std::string out;
  for (const auto& [k, r] : points_) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%s%d:%g", out.empty() ? "" : ",", k, r);
    out += buf;
  }
  return out;
}

LookupStats& LookupStats::operator+=(const LookupStats& o) {
  turns += o.turns;
  tokens += o.tokens;
  steps += o.steps;
  draft_steps += o.draft_steps;
  drafted += o.drafted;
  accepted += o.accepted;
  cost += o.cost;
  return *this;
}

LookupStats replay_turn(PromptLookupDrafter& drafter, std::span<const int32_t> turn, const VerifyCostTable& costs) {
  LookupStats s;
  s.turns = 1;
  s.tokens = static_cast<int64_t>(turn.size());
  drafter.restart_draft_length();
  size_t pos = 0;
  while (pos < turn.size()) {
    // Drafts past the turn's last token (its end-of-turn token) would only be rejected: never proposed.
    const std::vector<int32_t> draft = drafter.propose(static_cast<int>(turn.size() - pos));
    size_t accepted = 0;
    while (accepted < draft.size() && draft[accepted] == turn[pos + accepted]) ++accepted;
    // The verifier's own token follows the accepted drafts, unless the drafts reached the turn's end.
    const size_t produced = std::min(accepted + 1, turn.size() - pos);
    ++s.steps;
    s.cost += costs.cost(static_cast<int>(draft.size()) + 1);
    if (!draft.empty()) {
      ++s.draft_steps;
      s.drafted += static_cast<int64_t>(draft.size());
      s.accepted += static_cast<int64_t>(accepted);
      drafter.feedback(static_cast<int>(draft.size()), static_cast<int>(accepted));
    }
    drafter.append(turn.subspan(pos, produced));
    pos += produced;
  }
  return s;
}

}  // namespace hearth::serve
