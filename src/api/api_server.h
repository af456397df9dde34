#pragma once
// The API routes over a Backend: /v1/messages (JSON and SSE), /v1/messages/count_tokens, /v1/models,
// /v1/models/{id}, /health, HEAD /, and (through api/openai_routes.h) the OpenAI-compatible
// /v1/chat/completions and /v1/responses. ApiRoutes holds the handlers (testable without sockets);
// ApiServer puts them on an HttpServer.
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/backend.h"
#include "api/generation_writer.h"
#include "api/http_server.h"
#include "api/model_names.h"
#include "api/request_parser.h"
#include "api/request_metrics.h"
#include "api/request_queue.h"
#include "api/thinking_signature.h"

namespace hearth::api {

struct ApiConfig {
  std::vector<std::string> served_model_names;  // first = canonical id; '*' wildcards allowed
  std::string auth_token;                       // empty: no auth
  size_t queue_size = 16;                       // requests waiting beyond those generating
  std::string signing_key;                      // thinking signatures; empty: random per process
  int disconnect_poll_ms = 20;                  // how often a generating request checks its client
  int ping_interval_ms = 10000;                 // SSE ping every this long a stream is otherwise silent
  bool log_requests = true;                     // one summary line per generation on stderr
  // The most output tokens a request may ask for (0: no limit here). A larger max_tokens is refused
  // in the API's own words, which Claude Code reads to resend with max_tokens at the limit (when it
  // is at least 4096), so that a cut reply is reported against the limit the server really applied.
  int64_t max_output_tokens = 0;
  // Metrics (both optional): a JSON line per /v1/messages request, and the GET /metrics registry
  // (404 without), refreshed by refresh_metrics (e.g. with the prompt cache's memory) before rendering.
  metrics::MetricsLog* metrics_log = nullptr;
  metrics::ServerMetrics* metrics = nullptr;
  std::function<void(metrics::ServerMetrics&)> refresh_metrics;
};

// A generating request after its route parsed it: the request in the internal shape, the writer of its
// reply in the route's wire format, and the prefixes of the ids the reply's message and tool calls get.
struct RoutedGeneration {
  MessagesRequest request;
  std::unique_ptr<GenerationWriter> writer;
  std::string message_id_prefix = "msg_";
  std::string tool_id_prefix = "toolu_";
};

class ApiRoutes {
 public:
  ApiRoutes(ApiConfig config, Backend& backend);

  HttpResponse messages(const HttpRequest& request);
  HttpResponse count_tokens(const HttpRequest& request);
  HttpResponse list_models(const HttpRequest& request);
  HttpResponse get_model(const HttpRequest& request);  // path_params[0] = id
  HttpResponse health(const HttpRequest& request);
  HttpResponse root(const HttpRequest& request);
  HttpResponse metrics(const HttpRequest& request);  // Prometheus text format
  // Anthropic error response for a status the HTTP boundary produced itself (404, 413, 408, ...).
  // The HTTP boundary's own refusals, in the error shape of the API `path` belongs to (OpenAI's for
  // /v1/chat/completions and /v1/responses, Anthropic's otherwise).
  HttpResponse boundary_error(int status, const std::string& message, const std::string& path = {}) const;

  // Runs a generating request of any wire format (`endpoint` names its route in the metrics, `errors` the
  // shape of its error bodies): `parse` (auth, body, model) runs first and may throw;
  // then the prompt is prepared, the request queued (refused when the line is full), and the reply
  // generated, streamed or not, with cancellation on disconnect and a metrics record either way. Errors
  // before the status line are written in `errors`'s shape, later ones by the writer.
  HttpResponse serve_generation(const HttpRequest& http, std::string_view endpoint, ErrorFormat errors,
                                const std::function<RoutedGeneration()>& parse);
  // Error response in the given shape, for routes of other wire formats.
  HttpResponse error_response(const ApiError& error, ErrorFormat errors) const;
  // Throws authentication_error unless the request carries the configured key; `hint` says where.
  void check_authorized(const HttpRequest& http, std::string_view hint) const;
  const ApiConfig& config() const { return config_; }
  const ServedModels& served() const { return served_; }
  const RequestQueue& queue() const { return queue_; }
  const ThinkingSigner& signer() const { return signer_; }

 private:
  struct Generation;
  MessagesRequest parse_for_model(const HttpRequest& request, RequestKind kind) const;
  HttpResponse stream_response(std::shared_ptr<Generation> generation);
  HttpResponse json_response(std::shared_ptr<Generation> generation);
  HttpResponse guarded(const std::string& request_id, ErrorFormat errors, const std::function<HttpResponse()>& body) const;
  void run_generation(Generation& generation, const std::function<void(const struct StreamEvent&)>& emit,
                      const std::function<bool()>& client_gone);

  ApiConfig config_;
  Backend& backend_;
  ServedModels served_;
  ThinkingSigner signer_;
  RequestQueue queue_;
  RequestMetrics request_metrics_;
};

class OpenAiRoutes;

class ApiServer {
 public:
  ApiServer(ApiConfig config, HttpServerOptions http, Backend& backend);
  ~ApiServer();
  int bind();   // throws hearth::Error(io); returns the port
  void run();
  void stop();
  ApiRoutes& routes() { return routes_; }

 private:
  ApiRoutes routes_;
  std::unique_ptr<OpenAiRoutes> openai_;  // the OpenAI-compatible routes (api/openai_routes.h)
  HttpServer http_;
};

}  // namespace hearth::api
