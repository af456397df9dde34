#include "app/load_progress_view.h"

#include <chrono>
#include <memory>

namespace hearth::app {

engine::LoadProgressFn load_progress_view(ProgressDisplay& display) {
  struct State {
    engine::LoadStage stage = engine::LoadStage::read_weights;
    bool started = false;
    std::chrono::steady_clock::time_point start;
    RateMeter meter;
  };
  auto state = std::make_shared<State>();
  return [&display, state](const engine::LoadProgress& p) {
    if (!state->started || p.stage != state->stage) {
      *state = State{};
      state->stage = p.stage;
      state->started = true;
      state->start = std::chrono::steady_clock::now();
    }
    state->meter.add(p.bytes_done);
    const std::string name = engine::load_stage_name(p.stage);
    if (p.finished) {
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - state->start).count();
      display.clear_status();
      std::string text = name + ": " + format_bytes(static_cast<double>(p.bytes_total)) + ", " +
                         std::to_string(p.tensors_total) + " tensors in " + format_duration(seconds);
      if (seconds > 0.05) text += " (" + format_bytes(static_cast<double>(p.bytes_total) / seconds) + "/s)";
      display.line(text);
      state->started = false;
      return;
    }
    const double fraction = p.bytes_total ? static_cast<double>(p.bytes_done) / static_cast<double>(p.bytes_total) : 0.0;
    std::string text = name + " " + progress_bar(fraction, 30) + " " + format_bytes(static_cast<double>(p.bytes_done)) + " / " +
                       format_bytes(static_cast<double>(p.bytes_total));
    if (const double rate = state->meter.bytes_per_second(); rate > 0) {
      text += "  " + format_bytes(rate) + "/s  " + state->meter.eta(p.bytes_total - p.bytes_done);
    }
    text += "  tensors " + std::to_string(p.tensors_done) + "/" + std::to_string(p.tensors_total);
    display.status(text);
  };
}

}  // namespace hearth::app
