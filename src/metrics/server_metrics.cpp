#include "metrics/server_metrics.h"

#include "metrics/process_memory.h"

namespace hearth::metrics {
namespace {

// Latency buckets (seconds): from a cached agent turn's first token (tens of ms) to a cold 100k-token
// prefill (minutes).
const std::vector<double> kLatencyBuckets{0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};

}  // namespace

ServerMetrics::ServerMetrics() {
  Registry& r = registry_;
  r.add_counter("hearth_requests_total", "Requests answered, by endpoint and HTTP status.");
  r.add_counter("hearth_prompt_tokens_total", "Prompt tokens of answered requests.");
  r.add_counter("hearth_cached_tokens_total", "Prompt tokens reused from the prompt cache (not prefilled).");
  r.add_counter("hearth_prefilled_tokens_total", "Prompt tokens run through the model.");
  r.add_counter("hearth_output_tokens_total", "Generated tokens.");
  r.add_counter("hearth_tool_calls_total", "tool_use blocks emitted.");
  r.add_counter("hearth_cache_lookups_total", "Prompt-cache lookups, by result (hit: some prefix reused).");
  r.add_gauge("hearth_cache_hit_ratio", "Share of prompt tokens reused from the cache since start.");
  r.add_gauge("hearth_queue_depth", "Requests waiting for the model.");
  r.add_gauge("hearth_requests_running", "Requests on the model now.");
  r.add_gauge("hearth_cache_bytes", "Memory held by prompt-cache checkpoints, by tier.");
  r.add_gauge("hearth_cache_checkpoints", "Prompt-cache checkpoints, by tier.");
  r.add_gauge("hearth_cache_page_bytes",
              "Of hearth_cache_bytes{tier=\"host\"}: KV pages that only checkpoints hold (CPU backend).");
  r.add_gauge("hearth_tokenizer_cache_bytes", "Memory of the tokenizer's word cache (bounded).");
  r.add_gauge("hearth_process_resident_bytes", "Resident memory of the server process now (VmRSS).");
  r.add_gauge("hearth_cache_evictions", "Checkpoints dropped from memory since start.");
  r.add_gauge("hearth_cache_demotions", "Checkpoints moved from device to host memory since start.");
  r.add_gauge("hearth_model_info", "The model served (always 1): its name, origin and content identity as labels.");
  r.add_histogram("hearth_time_to_first_token_seconds", "Arrival to first generated token.", kLatencyBuckets);
  r.add_histogram("hearth_request_duration_seconds", "Arrival to the end of the response.", kLatencyBuckets);
  r.add_histogram("hearth_queue_wait_seconds", "Time spent waiting for the model.", kLatencyBuckets);
}

void ServerMetrics::record(const RequestRecord& rec) {
  Registry& r = registry_;
  r.increment("hearth_requests_total", {{"endpoint", rec.endpoint}, {"status", std::to_string(rec.http_status)}});
  if (rec.http_status != 200) return;  // token and latency figures of failed requests would mislead
  r.increment("hearth_prompt_tokens_total", {}, static_cast<double>(rec.prompt_tokens));
  r.increment("hearth_cached_tokens_total", {}, static_cast<double>(rec.cached_tokens));
  r.increment("hearth_prefilled_tokens_total", {}, static_cast<double>(rec.prefilled_tokens));
  r.increment("hearth_output_tokens_total", {}, static_cast<double>(rec.output_tokens));
  r.increment("hearth_tool_calls_total", {}, rec.tool_calls);
  if (!rec.cache_source.empty()) r.increment("hearth_cache_lookups_total", {{"result", rec.cache_hit ? "hit" : "miss"}});
  double prompt = r.value("hearth_prompt_tokens_total");
  r.set("hearth_cache_hit_ratio", {}, prompt > 0 ? r.value("hearth_cached_tokens_total") / prompt : 0);
  if (rec.output_tokens > 0) r.observe("hearth_time_to_first_token_seconds", {}, rec.ttft_ms / 1000.0);
  r.observe("hearth_request_duration_seconds", {}, rec.total_ms / 1000.0);
  r.observe("hearth_queue_wait_seconds", {}, rec.queue_ms / 1000.0);
}

void ServerMetrics::set_model(const ModelArtifact& m) {
  const Labels labels{{"name", m.name},     {"repository", m.repository}, {"revision", m.revision},
                      {"commit", m.commit}, {"path", m.path},             {"identity", m.identity}};
  registry_.set("hearth_model_info", labels, 1);
}

void ServerMetrics::set_queue_depth(int64_t waiting, int64_t running) {
  registry_.set("hearth_queue_depth", {}, static_cast<double>(waiting));
  registry_.set("hearth_requests_running", {}, static_cast<double>(running));
}

void ServerMetrics::set_cache_state(const CacheState& s) {
  Registry& r = registry_;
  r.set("hearth_cache_bytes", {{"tier", "device"}}, static_cast<double>(s.device_bytes));
  r.set("hearth_cache_bytes", {{"tier", "host"}}, static_cast<double>(s.host_bytes));
  r.set("hearth_cache_bytes", {{"tier", "disk"}}, static_cast<double>(s.disk_bytes));
  r.set("hearth_cache_checkpoints", {{"tier", "device"}}, static_cast<double>(s.device_checkpoints));
  r.set("hearth_cache_checkpoints", {{"tier", "host"}}, static_cast<double>(s.host_checkpoints));
  r.set("hearth_cache_checkpoints", {{"tier", "disk"}}, static_cast<double>(s.disk_checkpoints));
  r.set("hearth_cache_page_bytes", {}, static_cast<double>(s.host_page_bytes));
  r.set("hearth_tokenizer_cache_bytes", {}, static_cast<double>(s.tokenizer_cache_bytes));
  r.set("hearth_process_resident_bytes", {}, static_cast<double>(process_rss_bytes()));
  r.set("hearth_cache_evictions", {}, static_cast<double>(s.evicted));
  r.set("hearth_cache_demotions", {}, static_cast<double>(s.demoted));
}

}  // namespace hearth::metrics
