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
  DemoReplyEndModel(std::unique_ptr<Model> inner, DemoReplyEnd options) : inner_(std::move(inner)), options_(options) {
    const int64_t vocab = inner_->info().vocab_size;
    if (options_.turn_end < 0 || options_.turn_end >= vocab || options_.turn_start < 0 || options_.turn_start >= vocab) {
      throw Error("demo model: the turn tokens are outside the vocabulary", ErrorKind::invalid_request);
    }
  }

  const ModelInfo& info() const override { return inner_->info(); }
  void reset() override {
    inner_->reset();
    reply_start_ = -1;
  }
  void prefill(std::span<const Token> tokens) override {
    const int64_t first = inner_->position();
    inner_->prefill(tokens);
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (tokens[i] == options_.turn_start) reply_start_ = first + int64_t(i);
    }
  }
  std::span<const float> logits() const override {
    const std::span<const float> real = inner_->logits();
    if (reply_start_ < 0 || inner_->position() - reply_start_ <= options_.reply_tokens) return real;
    ended_.assign(real.begin(), real.end());
    ended_[size_t(options_.turn_end)] = *std::max_element(real.begin(), real.end()) + 100.0f;
    return ended_;
  }
  int64_t position() const override { return inner_->position(); }

  std::unique_ptr<StateSnapshot> save_state() const override {
    return std::make_unique<DemoSnapshot>(inner_->save_state(), reply_start_);
  }
  void restore_state(const StateSnapshot& snapshot) override {
    const DemoSnapshot& demo = as_demo(snapshot);
    inner_->restore_state(demo.inner());
    reply_start_ = demo.reply_start();
  }
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
  int64_t reply_start_ = -1;            // position of the last turn_start in the sequence; -1: none
  mutable std::vector<float> ended_;    // logits with the end of turn made certain
};

}  // namespace

std::unique_ptr<Model> end_demo_replies(std::unique_ptr<Model> model, DemoReplyEnd options) {
  if (!model) throw Error("demo model: nothing to wrap", ErrorKind::internal);
  return std::make_unique<DemoReplyEndModel>(std::move(model), options);
}

}  // namespace hearth::engine
