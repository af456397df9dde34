#include "app/progress_display.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace hearth::app {

std::string format_bytes(double bytes) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return buf;
}

std::string format_duration(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%lds", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  return buf;
}

std::string progress_bar(double fraction, int width) {
  if (fraction < 0) fraction = 0;
  if (fraction > 1) fraction = 1;
  const int filled = static_cast<int>(fraction * width + 0.5);
  return "[" + std::string(static_cast<size_t>(filled), '#') + std::string(static_cast<size_t>(width - filled), '.') + "]";
}

namespace {
bool is_terminal(std::FILE* out) {
  const char* term = std::getenv("TERM");
  return isatty(fileno(out)) && !(term && std::strcmp(term, "dumb") == 0);
}
}  // namespace

ProgressDisplay::ProgressDisplay(std::FILE* out) : ProgressDisplay(out, is_terminal(out)) {}

ProgressDisplay::ProgressDisplay(std::FILE* out, bool interactive) : out_(out), interactive_(interactive) {}

ProgressDisplay::~ProgressDisplay() { clear_status(); }

void ProgressDisplay::status(const std::string& text, bool force) {
  if (!interactive_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  last_status_ = text;
  std::fprintf(out_, "\r\033[K%s", text.c_str());
  std::fflush(out_);
}

void ProgressDisplay::line(const std::string& text) {
  if (interactive_ && !last_status_.empty()) std::fputs("\r\033[K", out_);
  std::fprintf(out_, "%s\n", text.c_str());
  if (interactive_ && !last_status_.empty()) std::fputs(last_status_.c_str(), out_);
  std::fflush(out_);
}

void ProgressDisplay::clear_status() {
  if (interactive_ && !last_status_.empty()) {
    std::fputs("\r\033[K", out_);
    std::fflush(out_);
  }
  last_status_.clear();
}

void RateMeter::add(uint64_t total_done) {
  const auto now = std::chrono::steady_clock::now();
  samples_.emplace_back(now, total_done);
  while (samples_.size() > 2 && now - samples_.front().first > std::chrono::seconds(5)) samples_.pop_front();
}

double RateMeter::bytes_per_second() const {
  if (samples_.size() < 2) return 0;
  const double seconds = std::chrono::duration<double>(samples_.back().first - samples_.front().first).count();
  if (seconds < 0.2) return 0;
  return static_cast<double>(samples_.back().second - samples_.front().second) / seconds;
}

std::string RateMeter::eta(uint64_t remaining) const {
  const double rate = bytes_per_second();
  if (rate <= 0) return "";
  return "ETA " + format_duration(static_cast<double>(remaining) / rate);
}

}  // namespace hearth::app
