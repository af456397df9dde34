#include "api/api_server.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "api/auth.h"
#include "api/errors.h"
#include "api/ids.h"
#include "api/message_composer.h"
#include "api/openai_routes.h"
#include "api/openai_errors.h"
#include "api/request_parser.h"
#include "api/response_encoding.h"
#include "metrics/request_record.h"

namespace hearth::api {
namespace {

// `status` is the error type's own unless the HTTP boundary produced a more specific one (405, 414).
HttpResponse error_response(const ApiError& error, const std::string& request_id, ErrorFormat format, int status = 0) {
  HttpResponse response;
  if (format == ErrorFormat::openai) {
    response.status = status > 0 ? status : openai_error_shape(error).status;
    response.body = openai_error_body(error);
  } else {
    response.status = status > 0 ? status : error.status();
    response.body = error_body(error.type(), error.what(), request_id);
  }
  response.headers.emplace_back("request-id", request_id);
  response.headers.emplace_back("x-should-retry", should_retry(response.status) ? "true" : "false");
  if (error.type() == ErrorType::authentication_error) response.headers.emplace_back("www-authenticate", "Bearer");
  return response;
}

HttpResponse json_ok(const Json& body, const std::string& request_id = {}) {
  HttpResponse response;
  response.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (!request_id.empty()) response.headers.emplace_back("request-id", request_id);
  return response;
}

// Raises `cancel` as soon as the client hangs up, checking every `period` until destroyed.
class DisconnectWatch {
 public:
  DisconnectWatch(std::function<bool()> client_gone, std::chrono::milliseconds period, std::atomic<bool>& cancel)
      : thread_([this, client_gone = std::move(client_gone), period, &cancel] {
          while (!done_.load()) {
            if (client_gone && client_gone()) {
              cancel.store(true);
              return;
            }
            std::this_thread::sleep_for(period);
          }
        }) {}
  ~DisconnectWatch() {
    done_.store(true);
    thread_.join();
  }

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// Calls `beat` every `interval` on its own thread until stopped (or destroyed).
class StreamHeartbeat {
 public:
  StreamHeartbeat(std::chrono::milliseconds interval, std::function<void()> beat)
      : thread_([this, interval, beat = std::move(beat)] {
          std::unique_lock lock(mutex_);
          while (!stopped_) {
            if (!wake_.wait_for(lock, interval, [this] { return stopped_; })) {
              lock.unlock();
              beat();
              lock.lock();
            }
          }
        }) {}
  ~StreamHeartbeat() { stop(); }
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopped_ = false;
  std::thread thread_;
};

// One model in both APIs' shapes at once (Anthropic: type, display_name, created_at; OpenAI: object,
// created, owned_by), so that GET /v1/models serves the clients of either.
Json model_json(const std::string& id) {
  return {{"type", "model"},       {"id", id},           {"display_name", id}, {"created_at", "2025-01-01T00:00:00Z"},
          {"object", "model"},     {"created", 1735689600}, {"owned_by", "hearth"}};
}

const char* end_name(GenerationEnd end) {
  switch (end) {
    case GenerationEnd::end_turn: return "end_turn";
    case GenerationEnd::max_tokens: return "max_tokens";
    case GenerationEnd::stopped: return "stopped";
    case GenerationEnd::cancelled: return "cancelled";
  }
  return "?";
}

}  // namespace

// Everything one /v1/messages request needs after its handler returned (a streamed body is produced
// later, on the connection's thread).
struct ApiRoutes::Generation {
  std::string request_id;
  MessagesRequest request;
  std::unique_ptr<GenerationWriter> writer;
  std::string message_id_prefix;
  std::string tool_id_prefix;
  std::unique_ptr<PreparedGeneration> prepared;
  std::optional<RequestQueue::Ticket> ticket;
  std::function<bool()> client_gone;
  RequestTiming timing;      // for the metrics record
  bool recorded = false;     // its metrics record was written
};

ApiRoutes::ApiRoutes(ApiConfig config, Backend& backend)
    : config_(std::move(config)),
      backend_(backend),
      served_(config_.served_model_names),
      signer_(config_.signing_key),
      queue_(config_.queue_size, size_t(std::max<int32_t>(1, backend.status().parallel))),
      request_metrics_(config_.metrics_log, config_.metrics) {}

MessagesRequest ApiRoutes::parse_for_model(const HttpRequest& http, RequestKind kind) const {
  check_authorized(http, "send it in the `x-api-key` header or as `Authorization: Bearer`");
  MessagesRequest request = parse_messages_request(http.body, kind);
  if (!served_.accepts(request.model)) {
    throw ApiError(ErrorType::not_found_error,
                   "model: unknown model '" + request.model + "'; this server serves " + served_.describe(), "model");
  }
  if (kind == RequestKind::messages && config_.max_output_tokens > 0 && request.max_tokens > config_.max_output_tokens) {
    // Word for word what the Anthropic API answers (Claude Code parses the limit out of it).
    throw ApiError(ErrorType::invalid_request_error,
                   "max_tokens: " + std::to_string(request.max_tokens) + " > " + std::to_string(config_.max_output_tokens) +
                       ", which is the maximum allowed number of output tokens for " + request.model);
  }
  request.session_id = http.header("x-claude-code-session-id");
  drop_unverified_thinking(request, signer_);
  return request;
}

void ApiRoutes::check_authorized(const HttpRequest& http, std::string_view hint) const {
  if (!is_authorized(http, config_.auth_token)) {
    throw ApiError(ErrorType::authentication_error, "invalid or missing API key: " + std::string(hint));
  }
}

HttpResponse ApiRoutes::error_response(const ApiError& error, ErrorFormat errors) const {
  return api::error_response(error, new_id("req_"), errors);
}

// Runs `body` and turns whatever it throws into an error response of the given shape.
HttpResponse ApiRoutes::guarded(const std::string& request_id, ErrorFormat errors,
                                const std::function<HttpResponse()>& body) const {
  try {
    return body();
  } catch (const ApiError& e) {
    return api::error_response(e, request_id, errors);
  } catch (const Error& e) {
    return api::error_response(to_api_error(e), request_id, errors);
  } catch (const std::exception& e) {
    return api::error_response(ApiError(ErrorType::api_error, std::string("internal error: ") + e.what()), request_id,
                               errors);
  }
}

HttpResponse ApiRoutes::messages(const HttpRequest& http) {
  return serve_generation(http, "messages", ErrorFormat::anthropic, [&] {
    RoutedGeneration routed;
    routed.request = parse_for_model(http, RequestKind::messages);
    routed.writer = std::make_unique<AnthropicMessageWriter>(routed.request.stream);
    return routed;
  });
}

HttpResponse ApiRoutes::serve_generation(const HttpRequest& http, std::string_view endpoint, ErrorFormat errors,
                                         const std::function<RoutedGeneration()>& parse) {
  const std::string request_id = new_id("req_");
  auto generation = std::make_shared<Generation>();
  generation->timing.endpoint = std::string(endpoint);
  generation->timing.arrival = std::chrono::steady_clock::now();
  if (request_metrics_.enabled()) generation->timing.arrival_time = metrics::iso8601_utc_now();
  HttpResponse response = guarded(request_id, errors, [&]() -> HttpResponse {
    generation->request_id = request_id;
    RoutedGeneration routed = parse();
    generation->request = std::move(routed.request);
    generation->writer = std::move(routed.writer);
    generation->message_id_prefix = std::move(routed.message_id_prefix);
    generation->tool_id_prefix = std::move(routed.tool_id_prefix);
    // Rendering and the prompt-length check happen before queueing, so these errors are immediate.
    generation->prepared = backend_.prepare(generation->request);
    generation->ticket = queue_.try_enter();
    if (!generation->ticket) {
      throw ApiError(ErrorType::overloaded_error, "hearth is busy: " + std::to_string(queue_.max_waiting()) +
                                                      " requests are already waiting for the model; retry later");
    }
    generation->client_gone = http.client_gone;
    return generation->request.stream ? stream_response(generation) : json_response(generation);
  });
  // Requests refused before generating (bad request, auth, busy, ...) are recorded here; the others
  // by run_generation.
  if (response.status != 200 && !generation->recorded) {
    ErrorType type = ErrorType::api_error;
    for (ErrorType t : {ErrorType::invalid_request_error, ErrorType::authentication_error, ErrorType::permission_error,
                        ErrorType::not_found_error, ErrorType::timeout_error, ErrorType::request_too_large,
                        ErrorType::rate_limit_error, ErrorType::api_error, ErrorType::overloaded_error}) {
      if (http_status(t) == response.status) type = t;
    }
    if (errors == ErrorFormat::openai && response.status == 503) type = ErrorType::overloaded_error;
    request_metrics_.failed(generation->request, request_id, generation->timing, type);
  }
  return response;
}

void ApiRoutes::run_generation(Generation& g, const std::function<void(const StreamEvent&)>& emit,
                               const std::function<bool()>& client_gone) {
  const auto started = std::chrono::steady_clock::now();
  ComposerOptions options;
  options.model = g.request.model;
  options.stop_sequences = g.request.stop_sequences;
  options.signer = &signer_;
  options.message_id_prefix = g.message_id_prefix;
  options.tool_id_prefix = g.tool_id_prefix;
  std::optional<StopReason> stop_reason;  // seen in message_delta, for the metrics record
  MessageComposer composer(options, [&](const StreamEvent& e) {
    if (e.type == StreamEventType::message_delta) stop_reason = e.stop_reason;
    emit(e);
  });

  std::atomic<bool> cancel{false};
  if (!g.ticket->wait_turn(client_gone)) return;  // the client left while waiting
  g.timing.turn = std::chrono::steady_clock::now();
  GenerationOutcome outcome;
  try {
    DisconnectWatch watch(client_gone, std::chrono::milliseconds(config_.disconnect_poll_ms), cancel);
    GenerationHooks hooks;
    hooks.on_start = [&](const Usage& usage) { composer.start(usage); };
    hooks.on_event = [&](const ContentEvent& event) { return composer.push(event); };
    hooks.cancel = &cancel;
    outcome = backend_.generate(*g.prepared, hooks);
  } catch (const ApiError& e) {
    request_metrics_.failed(g.request, g.request_id, g.timing, e.type());
    g.recorded = true;
    throw;
  } catch (const Error& e) {
    request_metrics_.failed(g.request, g.request_id, g.timing, error_type_for(e.kind()));
    g.recorded = true;
    throw;
  } catch (const std::exception&) {
    request_metrics_.failed(g.request, g.request_id, g.timing, ErrorType::api_error);
    g.recorded = true;
    throw;
  }
  if (outcome.end != GenerationEnd::cancelled) composer.finish(outcome.end, outcome.usage);
  g.timing.done = std::chrono::steady_clock::now();
  request_metrics_.generated(g.request, composer.message_id(), g.timing, outcome, stop_reason);
  g.recorded = true;
  if (config_.log_requests) {
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::fprintf(stderr, "hearth: %s %s stream=%d prompt=%lld cached=%lld output=%lld end=%s %.2fs\n",
                 composer.message_id().c_str(), g.request.model.c_str(), int(g.request.stream),
                 (long long)(outcome.usage.input_tokens + outcome.usage.cache_read_input_tokens +
                             outcome.usage.cache_creation_input_tokens),
                 (long long)outcome.usage.cache_read_input_tokens, (long long)outcome.usage.output_tokens,
                 end_name(outcome.end), seconds);
  }
}

HttpResponse ApiRoutes::json_response(std::shared_ptr<Generation> g) {
  run_generation(*g, [&](const StreamEvent& e) { g->writer->event(e); }, g->client_gone);
  return json_ok(g->writer->body(), g->request_id);
}

HttpResponse ApiRoutes::stream_response(std::shared_ptr<Generation> g) {
  HttpResponse response;
  response.content_type = "text/event-stream";
  response.headers.emplace_back("cache-control", "no-cache");
  response.headers.emplace_back("request-id", g->request_id);
  response.stream = [this, g](ResponseStream& out) {
    std::atomic<bool> writable{true};  // read by the disconnect watcher's thread too
    std::mutex write_mutex;            // the generating thread and the heartbeat both write
    auto write = [&](const std::string& bytes) {
      std::lock_guard lock(write_mutex);
      if (writable && !bytes.empty()) writable = out.write(bytes);
    };
    // Keep-alives while nothing else is sent (waiting for the model, a long prefill), so that clients
    // and proxies with idle timeouts keep the stream open.
    StreamHeartbeat heartbeat(std::chrono::milliseconds(config_.ping_interval_ms), [&] { write(g->writer->keepalive()); });
    auto gone = [&]() { return !writable.load() || g->client_gone(); };
    // Once the status line is out, a failure can only be told in the stream.
    std::optional<ApiError> failure;
    try {
      run_generation(*g, [&](const StreamEvent& e) { write(g->writer->event(e)); }, gone);
    } catch (const ApiError& e) {
      failure = e;
    } catch (const Error& e) {
      failure = to_api_error(e);
    } catch (const std::exception& e) {
      failure = ApiError(ErrorType::api_error, std::string("internal error: ") + e.what());
    }
    write(failure ? g->writer->failure(*failure) : g->writer->end());
    heartbeat.stop();
    g->ticket.reset();  // free the model as soon as the body is done
  };
  return response;
}

HttpResponse ApiRoutes::count_tokens(const HttpRequest& http) {
  const std::string request_id = new_id("req_");
  return guarded(request_id, ErrorFormat::anthropic, [&] {
    MessagesRequest request = parse_for_model(http, RequestKind::count_tokens);
    return json_ok({{"input_tokens", backend_.count_tokens(request)}}, request_id);
  });
}

HttpResponse ApiRoutes::list_models(const HttpRequest& http) {
  const std::string request_id = new_id("req_");
  return guarded(request_id, ErrorFormat::anthropic, [&] {
    if (!is_authorized(http, config_.auth_token)) throw ApiError(ErrorType::authentication_error, "invalid or missing API key");
    Json data = Json::array();
    for (const std::string& name : served_.listed()) data.push_back(model_json(name));
    Json body = {{"object", "list"}, {"data", data}, {"has_more", false}};
    body["first_id"] = data.empty() ? Json(nullptr) : data.front()["id"];
    body["last_id"] = data.empty() ? Json(nullptr) : data.back()["id"];
    return json_ok(body, request_id);
  });
}

HttpResponse ApiRoutes::get_model(const HttpRequest& http) {
  const std::string request_id = new_id("req_");
  return guarded(request_id, ErrorFormat::anthropic, [&] {
    if (!is_authorized(http, config_.auth_token)) throw ApiError(ErrorType::authentication_error, "invalid or missing API key");
    const std::string id = http.path_params.empty() ? std::string() : http.path_params[0];
    if (id.empty() || !served_.accepts(id)) {
      throw ApiError(ErrorType::not_found_error, "model: unknown model '" + id + "'; this server serves " + served_.describe());
    }
    return json_ok(model_json(id), request_id);
  });
}

HttpResponse ApiRoutes::health(const HttpRequest&) {
  BackendStatus status = backend_.status();
  const std::vector<std::string> names = served_.listed();
  Json body = {
      {"status", status.model_loaded ? "ok" : "loading"},
      {"model_loaded", status.model_loaded},
      {"model", names.empty() ? Json(nullptr) : Json(names.front())},
      {"description", status.description},
      {"max_context", status.max_context},
      {"queue", {{"running", queue_.running()}, {"waiting", queue_.waiting()}, {"max_waiting", queue_.max_waiting()}, {"max_running", queue_.max_running()}}},
  };
  HttpResponse response = json_ok(body);
  if (!status.model_loaded) response.status = 503;
  return response;
}

HttpResponse ApiRoutes::root(const HttpRequest&) { return json_ok({{"name", "hearth"}, {"status", "ok"}}); }

HttpResponse ApiRoutes::metrics(const HttpRequest&) {
  if (!config_.metrics) return boundary_error(404, "metrics are not enabled on this server");
  config_.metrics->set_queue_depth(int64_t(queue_.waiting()), int64_t(queue_.running()));
  if (config_.refresh_metrics) config_.refresh_metrics(*config_.metrics);
  HttpResponse response;
  response.content_type = "text/plain; version=0.0.4";
  response.body = config_.metrics->render();
  return response;
}

HttpResponse ApiRoutes::boundary_error(int status, const std::string& message, const std::string& path) const {
  ErrorType type = ErrorType::api_error;
  switch (status) {
    case 404: type = ErrorType::not_found_error; break;
    case 408: type = ErrorType::timeout_error; break;
    case 413: type = ErrorType::request_too_large; break;
    default:
      if (status >= 400 && status < 500) type = ErrorType::invalid_request_error;
  }
  // The boundary's status stays (e.g. 405, 414) even where the type is generic.
  const bool openai = path.starts_with("/v1/chat/completions") || path.starts_with("/v1/responses");
  return api::error_response(ApiError(type, message), new_id("req_"), openai ? ErrorFormat::openai : ErrorFormat::anthropic,
                             status);
}

ApiServer::ApiServer(ApiConfig config, HttpServerOptions http, Backend& backend)
    : routes_(std::move(config), backend), openai_(std::make_unique<OpenAiRoutes>(routes_)), http_(std::move(http)) {
  ApiRoutes* r = &routes_;
  OpenAiRoutes* o = openai_.get();
  http_.set_error_formatter(
      [r](int status, const std::string& message, const std::string& path) { return r->boundary_error(status, message, path); });
  http_.route("POST", "/v1/messages", [r](const HttpRequest& q) { return r->messages(q); });
  http_.route("POST", "/v1/messages/count_tokens", [r](const HttpRequest& q) { return r->count_tokens(q); });
  http_.route("POST", "/v1/chat/completions", [o](const HttpRequest& q) { return o->chat_completions(q); });
  http_.route("POST", "/v1/responses", [o](const HttpRequest& q) { return o->responses(q); });
  http_.route("GET", "/v1/models", [r](const HttpRequest& q) { return r->list_models(q); });
  http_.route("GET", "/v1/models/([^/]+)", [r](const HttpRequest& q) { return r->get_model(q); });
  http_.route("GET", "/health", [r](const HttpRequest& q) { return r->health(q); });
  http_.route("GET", "/", [r](const HttpRequest& q) { return r->root(q); });
  http_.route("GET", "/metrics", [r](const HttpRequest& q) { return r->metrics(q); });
}

ApiServer::~ApiServer() = default;

int ApiServer::bind() { return http_.bind(); }
void ApiServer::run() { http_.run(); }
void ApiServer::stop() { http_.stop(); }

}  // namespace hearth::api
