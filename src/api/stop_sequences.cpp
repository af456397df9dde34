#include "api/stop_sequences.h"

namespace hearth::api {

StopSequenceMatcher::StopSequenceMatcher(std::vector<std::string> sequences) : sequences_(std::move(sequences)) {}

StopSequenceMatcher::Result StopSequenceMatcher::push(std::string_view piece) {
  Result result;
  if (matched_) return result;
  if (sequences_.empty()) {
    result.text = piece;
    return result;
  }
  held_.append(piece);
  // The earliest occurrence wins; among sequences starting at the same place, the first listed.
  size_t best_pos = std::string::npos;
  for (size_t i = 0; i < sequences_.size(); ++i) {
    size_t pos = held_.find(sequences_[i]);
    if (pos < best_pos) {
      best_pos = pos;
      result.matched = i;
    }
  }
  if (result.matched) {
    result.text = held_.substr(0, best_pos);
    held_.clear();
    matched_ = true;
    return result;
  }
  // Hold back the longest tail of the text that is a proper prefix of some sequence. Such a tail starts
  // with a sequence's first byte, a UTF-8 lead byte, so the cut never splits a character.
  size_t keep = 0;
  for (const std::string& seq : sequences_) {
    for (size_t k = std::min(seq.size() - 1, held_.size()); k > keep; --k) {
      if (held_.compare(held_.size() - k, k, seq, 0, k) == 0) {
        keep = k;
        break;
      }
    }
  }
  result.text = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return result;
}

std::string StopSequenceMatcher::flush() {
  std::string out;
  out.swap(held_);
  return out;
}

}  // namespace hearth::api
