#include "metrics/metrics_log.h"

#include <cerrno>
#include <cstring>

#include "util/error.h"

namespace hearth::metrics {

MetricsLog::MetricsLog(const std::filesystem::path& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "a");
  if (!file_) {
    throw Error("metrics log: cannot open " + path.string() + " for appending: " + std::strerror(errno), ErrorKind::io);
  }
}

MetricsLog::~MetricsLog() {
  if (file_) std::fclose(file_);
}

void MetricsLog::write(const RequestRecord& record) {
  std::string line = to_json(record).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  line += '\n';
  std::lock_guard lock(mutex_);
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) {
    throw Error("metrics log: writing " + path_.string() + " failed: " + std::strerror(errno), ErrorKind::io);
  }
}

}  // namespace hearth::metrics
