#pragma once
// hearth's request path without sockets, for the prompt-cache acceptance tests: the API routes over the
// completion glue over a model, with a metrics log in a temporary file that the tests read back.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "api/api_server.h"
#include "api/thinking_signature.h"
#include "serve/completion.h"
#include "chat/tokenizer.h"
#include "engine/loader.h"
#include "metrics/metrics_log.h"
#include "metrics/request_record.h"
#include "metrics/server_metrics.h"

namespace hearth::cache::testing {

using Json = nlohmann::ordered_json;

inline std::shared_ptr<const chat::Tokenizer> qwen_tokenizer() {
  static const auto t = chat::Tokenizer::load(HEARTH_TEST_TOKENIZER_DIR);
  return t;
}

constexpr const char* kSigningKey = "acceptance-test-key";

// The tiny test model's shape (2 linear + 2 full attention layers) with the test tokenizer's vocabulary
// and random weights: the real CPU engine, fast enough for whole conversations.
inline std::unique_ptr<engine::Model> tiny_qwen_vocab_model(int64_t max_context = 8192, int32_t slots = 1) {
  static const std::filesystem::path dir = [] {
    std::ifstream in(std::string(HEARTH_TESTDATA_DIR) + "/tiny/dense-hf-bf16/config.json");
    nlohmann::json config = nlohmann::json::parse(in);
    config["text_config"]["vocab_size"] = qwen_tokenizer()->vocab_size();
    config["text_config"]["max_position_embeddings"] = 65536;
    auto d = std::filesystem::temp_directory_path() / ("hearth-cache-acceptance-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    std::ofstream(d / "config.json") << config.dump(1);
    return d;
  }();
  engine::LoadOptions load;
  load.model_dir = dir;
  load.format = engine::LoadFormat::dummy;
  load.max_context = max_context;
  load.threads = 2;
  load.slots = slots;
  return engine::load_model(load);
}

class TempFile {
 public:
  explicit TempFile(const std::string& name)
      : path_(std::filesystem::temp_directory_path() / ("hearth-" + std::to_string(::getpid()) + "-" + name)) {
    std::filesystem::remove(path_);
  }
  ~TempFile() { std::filesystem::remove(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

class Server {
 public:
  Server(std::unique_ptr<engine::Model> model, serve::CompletionSettings settings, const std::filesystem::path& metrics_log)
      : backend_(qwen_tokenizer(), std::move(model), with_defaults(std::move(settings))),
        log_(metrics_log),
        routes_(config(), backend_) {}

  // POSTs a /v1/messages body (non-streaming) in session `session`; returns the response JSON.
  Json post(const Json& body, const std::string& session) {
    api::HttpRequest r;
    r.method = "POST";
    r.path = "/v1/messages";
    r.body = body.dump();
    r.headers["x-claude-code-session-id"] = session;
    r.client_gone = [] { return false; };
    api::HttpResponse response = routes_.messages(r);
    if (response.status != 200) throw std::runtime_error("HTTP " + std::to_string(response.status) + ": " + response.body);
    return Json::parse(response.body);
  }

  std::vector<metrics::RequestRecord> records() const {
    std::ifstream in(log_.path());
    std::vector<metrics::RequestRecord> out;
    std::string line;
    while (std::getline(in, line)) out.push_back(metrics::record_from_json(nlohmann::json::parse(line)));
    return out;
  }

  // GET /metrics
  std::string metrics_text() {
    api::HttpRequest r;
    r.method = "GET";
    r.path = "/metrics";
    api::HttpResponse response = routes_.metrics(r);
    if (response.status != 200) throw std::runtime_error("GET /metrics: HTTP " + std::to_string(response.status));
    return response.body;
  }

  serve::Completion& backend() { return backend_; }
  api::ApiRoutes& routes() { return routes_; }

 private:
  static serve::CompletionSettings with_defaults(serve::CompletionSettings s) {
    s.sampling.temperature = 0;  // greedy: outputs comparable run to run
    s.step_tokens = 128;
    return s;
  }
  api::ApiConfig config() {
    api::ApiConfig c;
    c.served_model_names = {"hearth-test"};
    c.signing_key = kSigningKey;
    c.log_requests = false;
    c.metrics_log = &log_;
    c.metrics = &metrics_;
    c.refresh_metrics = [this](metrics::ServerMetrics& m) {
      const StoreStats st = backend_.cache_stats();
      m.set_cache_state({st.device_bytes, st.host_bytes, st.disk_bytes, st.device_checkpoints, st.host_checkpoints,
                         st.disk_only_checkpoints, st.evicted, st.demoted});
    };
    return c;
  }

  serve::Completion backend_;
  metrics::MetricsLog log_;
  metrics::ServerMetrics metrics_;
  api::ApiRoutes routes_;
};

inline serve::CompletionSettings cache_settings(bool enabled, size_t host_budget = size_t(1) << 30) {
  serve::CompletionSettings s;
  s.prompt_cache.enabled = enabled;
  s.prompt_cache.store.host_budget_bytes = host_budget;
  return s;
}

}  // namespace hearth::cache::testing
