#pragma once
// hearth's Prometheus metrics (GET /metrics): the families, and how a finished request's record feeds
// them. Values the server knows only at scrape time (queue depth, cache memory) are set by the server
// through set_queue_depth() / set_cache_state() before render().
#include <cstddef>
#include <cstdint>
#include <string>

#include "metrics/prometheus.h"
#include "metrics/request_record.h"

namespace hearth::metrics {

struct CacheState {
  size_t device_bytes = 0;
  size_t host_bytes = 0;
  size_t disk_bytes = 0;
  size_t device_checkpoints = 0;
  size_t host_checkpoints = 0;
  size_t disk_checkpoints = 0;
  uint64_t evicted = 0;
  uint64_t demoted = 0;
};

class ServerMetrics {
 public:
  ServerMetrics();
  void record(const RequestRecord& record);
  void set_queue_depth(int64_t waiting, int64_t running);
  void set_cache_state(const CacheState& state);
  std::string render() const { return registry_.render(); }
  Registry& registry() { return registry_; }

 private:
  Registry registry_;
};

}  // namespace hearth::metrics
