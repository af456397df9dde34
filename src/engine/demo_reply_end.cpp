#include "engine/demo_reply_end.h"

#include <algorithm>
#include <vector>

namespace hearth::engine {
namespace {

// A snapshot of the wrapped model plus where the reply in it began, so that a restored sequence (the
// prompt cache's) keeps counting from the right place.
class DemoSnapshot : public StateSnapshot {
 public:
  DemoSnapshot(std::unique_ptr<StateSnapshot> inner, int64_t reply_start)
      : inner_(std::move(inner)), reply_start_(reply_start) {}
  int64_t position() const override { return inner_->position(); }
  size_t device_bytes() const override { return inner_->device_bytes(); }
  size_t host_bytes() const override { return inner_->host_bytes(); }
  const StateSnapshot& inner() const { return *inner_; }
  int64_t reply_start() const { return reply_start_; }

 private:
  std::unique_ptr<StateSnapshot> inner_;
  int64_t reply_start_;
};

const DemoSnapshot& as_demo(const StateSnapshot& snapshot) {
  const auto* demo = dynamic_cast<const DemoSnapshot*>(&snapshot);
  if (!demo) throw Error("demo model: a snapshot from another model", ErrorKind::internal);
  return *demo;
}

class DemoReplyEndModel : public Model {
 public:
  DemoReplyEndModel(std::unique_ptr<Model> inner, DemoReplyEnd options)
      : inner_(std::move(inner)), options_(options), reply_start_(size_t(inner_->info().slots), -1) {
    const int64_t vocab = inner_->info().vocab_size;
    if (options_.turn_end < 0 || options_.turn_end >= vocab || options_.turn_start < 0 || options_.turn_start >= vocab) {
      throw Error("demo model: the turn tokens are outside the vocabulary", ErrorKind::invalid_request);
    }
  }

  const ModelInfo& info() const override { return inner_->info(); }
  void reset_slot(SlotId slot) override {
    inner_->reset_slot(slot);
    start(slot) = -1;
    logit_rows_.at(size_t(slot)) = 1;
  }
  void forward(std::span<const SlotTokens> batch) override {
    std::vector<int64_t> first;
    for (const SlotTokens& e : batch) first.push_back(inner_->slot_position(e.slot));
    inner_->forward(batch);
    for (const SlotTokens& e : batch) logit_rows_.at(size_t(e.slot)) = e.logit_rows;
    for (size_t b = 0; b < batch.size(); ++b) {
      for (size_t i = 0; i < batch[b].tokens.size(); ++i) {
        if (batch[b].tokens[i] == options_.turn_start) start(batch[b].slot) = first[b] + int64_t(i);
      }
    }
  }
  std::span<const float> slot_logits(SlotId slot) const override { return ended(slot, inner_->slot_logits(slot), 0); }
  std::vector<TokenLogit> slot_top_logits(SlotId slot, int32_t k, int64_t limit) const override {
    if (!reply_over(slot, 0)) return inner_->slot_top_logits(slot, k, limit);  // the device's selection
    return top_logits(slot_logits(slot), size_t(limit), size_t(k));
  }
  // Row i of r is r - 1 - i positions before the last.
  std::span<const float> slot_row_logits(SlotId slot, int32_t row) const override {
    return ended(slot, inner_->slot_row_logits(slot, row), rows(slot) - 1 - row);
  }
  std::vector<TokenLogit> slot_row_top_logits(SlotId slot, int32_t row, int32_t k, int64_t limit) const override {
    if (!reply_over(slot, rows(slot) - 1 - row)) return inner_->slot_row_top_logits(slot, row, k, limit);
    return top_logits(slot_row_logits(slot, row), size_t(limit), size_t(k));
  }
  int64_t slot_position(SlotId slot) const override { return inner_->slot_position(slot); }

  std::unique_ptr<StateSnapshot> save_slot(SlotId slot) const override {
    return std::make_unique<DemoSnapshot>(inner_->save_slot(slot), start(slot));
  }
  void restore_slot(SlotId slot, const StateSnapshot& snapshot) override {
    const DemoSnapshot& demo = as_demo(snapshot);
    inner_->restore_slot(slot, demo.inner());
    start(slot) = demo.reply_start();
    logit_rows_.at(size_t(slot)) = 1;
  }
  bool holds_pages(const StateSnapshot& snapshot) const override { return inner_->holds_pages(as_demo(snapshot).inner()); }
  void set_page_reclaimer(std::function<bool()> reclaim) override { inner_->set_page_reclaimer(std::move(reclaim)); }
  size_t snapshot_host_page_bytes() const override { return inner_->snapshot_host_page_bytes(); }
  std::unique_ptr<StateSnapshot> offload_state(const StateSnapshot& snapshot) const override {
    const DemoSnapshot& demo = as_demo(snapshot);
    std::unique_ptr<StateSnapshot> offloaded = inner_->offload_state(demo.inner());
    if (!offloaded) return nullptr;
    return std::make_unique<DemoSnapshot>(std::move(offloaded), demo.reply_start());
  }
  size_t peak_device_bytes() const override { return inner_->peak_device_bytes(); }

 private:
  std::unique_ptr<Model> inner_;
  DemoReplyEnd options_;
  int64_t& start(SlotId slot) { return reply_start_.at(size_t(slot)); }
  int64_t start(SlotId slot) const { return reply_start_.at(size_t(slot)); }
  int32_t rows(SlotId slot) const { return logit_rows_.at(size_t(slot)); }
  // The reply in `slot`, `back` positions before its last, is past its length: the end token is forced.
  // (A turn_start among the last entry's tokens counts from its own position: the demo's replies are
  // never verified across one.)
  bool reply_over(SlotId slot, int64_t back) const {
    const int64_t reply_start = start(slot);
    return reply_start >= 0 && inner_->slot_position(slot) - back - reply_start > options_.reply_tokens;
  }
  std::span<const float> ended(SlotId slot, std::span<const float> real, int64_t back) const {
    if (!reply_over(slot, back)) return real;
    ended_.assign(real.begin(), real.end());
    ended_[size_t(options_.turn_end)] = *std::max_element(real.begin(), real.end()) + 100.0f;
    return ended_;
  }
  std::vector<int64_t> reply_start_;   // per slot: position of the last turn_start in the sequence; -1: none
  std::vector<int32_t> logit_rows_ = std::vector<int32_t>(size_t(inner_->info().slots), 1);  // per slot: its last entry's
  mutable std::vector<float> ended_;    // logits with the end of turn made certain
};

}  // namespace

std::unique_ptr<Model> end_demo_replies(std::unique_ptr<Model> model, DemoReplyEnd options) {
  if (!model) throw Error("demo model: nothing to wrap", ErrorKind::internal);
  return std::make_unique<DemoReplyEndModel>(std::move(model), options);
}

}  // namespace hearth::engine
