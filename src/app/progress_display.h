#pragma once
// Progress on stderr for the app's long operations (`hearth pull`, loading a model): on a terminal one
// status line redrawn in place (bar, bytes, rate, ETA); otherwise nothing but the permanent lines, so
// logs get one line per file or stage. The libraries report through callbacks and print nothing.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <string>

namespace hearth::app {

std::string format_bytes(double bytes);      // "512 B", "3.4 MiB", "20.1 GiB"
std::string format_duration(double seconds); // "42s", "3m05s", "1h02m"
std::string progress_bar(double fraction, int width);  // "[#####.....]"

class ProgressDisplay {
 public:
  // `interactive`: redraw a status line (default: whether stderr is a terminal and TERM is not "dumb").
  explicit ProgressDisplay(std::FILE* out = stderr);
  ProgressDisplay(std::FILE* out, bool interactive);
  ~ProgressDisplay();

  bool interactive() const { return interactive_; }
  // Redraws the status line (at most ~10 times a second unless `force`); nothing when not interactive.
  void status(const std::string& text, bool force = false);
  // A permanent line, printed above the status line.
  void line(const std::string& text);
  void clear_status();

 private:
  std::FILE* out_;
  bool interactive_;
  std::string last_status_;
  std::chrono::steady_clock::time_point last_draw_{};
};

// Transfer rate over the last few seconds, and the ETA it implies.
class RateMeter {
 public:
  void add(uint64_t total_done);  // the running total now
  double bytes_per_second() const;
  std::string eta(uint64_t remaining) const;  // "ETA 3m05s", or "" while the rate is unknown

 private:
  std::deque<std::pair<std::chrono::steady_clock::time_point, uint64_t>> samples_;
};

}  // namespace hearth::app
