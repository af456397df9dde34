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
  size_t host_page_bytes = 0;        // of host_bytes: KV pages only checkpoints hold (CPU backend)
  size_t tokenizer_cache_bytes = 0;  // the tokenizer's word cache
};

// What the server serves, as hearth_model_info's labels: where the weights came from (a Hugging Face
// repository at a revision and commit, or a directory) and the hash that names their contents.
struct ModelArtifact {
  std::string name;        // the served name
  std::string repository;  // "ORG/NAME" when loaded from the Hugging Face cache, else ""
  std::string revision;    // as asked ("main", a tag, a commit)
  std::string commit;
  std::string path;        // the directory read ("" for the demo model)
  std::string identity;    // cache::identity_of_files() of the weights ("" when none is computed)
};

class ServerMetrics {
 public:
  ServerMetrics();
  void record(const RequestRecord& record);
  void set_queue_depth(int64_t waiting, int64_t running);
  void set_cache_state(const CacheState& state);
  // hearth_model_info{name=...,repository=...,...} 1; called once, when the model is loaded.
  void set_model(const ModelArtifact& model);
  std::string render() const { return registry_.render(); }
  Registry& registry() { return registry_; }

 private:
  Registry registry_;
};

}  // namespace hearth::metrics
