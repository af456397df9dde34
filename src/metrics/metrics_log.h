#pragma once
// The metrics log: one JSON line per request, appended to a file. Safe to call from any thread; each line
// is written whole and flushed, so `tail -f` and a crash both see complete lines only.
#include <cstdio>
#include <filesystem>
#include <mutex>

#include "metrics/request_record.h"

namespace hearth::metrics {

class MetricsLog {
 public:
  // Opens `path` for appending (creating it). Throws hearth::Error(io) naming the path.
  explicit MetricsLog(const std::filesystem::path& path);
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;

  // Throws hearth::Error(io) when the line cannot be written (disk full).
  void write(const RequestRecord& record);
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  std::mutex mutex_;
};

}  // namespace hearth::metrics
