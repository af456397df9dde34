#pragma once
// Finds the caller's stop sequences in a stream of text pieces. Text that might be the beginning of a
// stop sequence is held back until the next piece decides, so that a matched sequence never reaches
// the client (the Anthropic API leaves the stop sequence out of the content).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hearth::api {

class StopSequenceMatcher {
 public:
  explicit StopSequenceMatcher(std::vector<std::string> sequences);

  struct Result {
    std::string text;                      // safe to emit now
    std::optional<size_t> matched;         // index of the sequence found; `text` ends right before it
  };
  // Adds `piece`. After a match, the matcher is spent: further pushes return nothing.
  Result push(std::string_view piece);
  // End of the text (block closed): releases what was held back.
  std::string flush();
  bool active() const { return !sequences_.empty(); }
  const std::string& sequence(size_t index) const { return sequences_[index]; }

 private:
  std::vector<std::string> sequences_;
  std::string held_;
  bool matched_ = false;
};

}  // namespace hearth::api
