#include "api/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <regex>

#include <httplib.h>

#include "api/cors.h"
#include "util/error.h"

namespace hearth::api {
namespace {

std::string lowercase(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Parses a textual IPv4/IPv6 address (as httplib reports it) for comparison with a socket's peer.
bool same_endpoint(const sockaddr_storage& addr, const std::string& ip, int port) {
  if (addr.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(addr);
    in_addr parsed{};
    return ntohs(v4.sin_port) == port && inet_pton(AF_INET, ip.c_str(), &parsed) == 1 &&
           parsed.s_addr == v4.sin_addr.s_addr;
  }
  if (addr.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(addr);
    in6_addr parsed{};
    return ntohs(v6.sin6_port) == port && inet_pton(AF_INET6, ip.c_str(), &parsed) == 1 &&
           std::memcmp(&parsed, &v6.sin6_addr, sizeof(parsed)) == 0;
  }
  return false;
}

// httplib does not hand handlers their socket. The connection is found by its address pair among
// the process's open descriptors (unique while the handler runs: the socket stays open until it
// returns), so that a handler can notice a client that hung up while it generates.
int find_connection_socket(const httplib::Request& req) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    int fd = -1;
    try {
      fd = std::stoi(entry.path().filename().string());
    } catch (...) {
      continue;
    }
    sockaddr_storage local{}, peer{};
    socklen_t local_len = sizeof(local), peer_len = sizeof(peer);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) continue;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) continue;
    if (same_endpoint(peer, req.remote_addr, req.remote_port) && same_endpoint(local, req.local_addr, req.local_port)) {
      return fd;
    }
  }
  return -1;
}

// Answers "has the client hung up?" without blocking. A peer that closed (FIN or RST) makes the
// socket report RDHUP/HUP/ERR; pipelined request bytes (POLLIN alone) do not count.
class DisconnectProbe {
 public:
  explicit DisconnectProbe(const httplib::Request& req) : req_(req) {}
  bool gone() {
    std::call_once(found_, [&] { fd_ = find_connection_socket(req_); });
    if (fd_ < 0) return false;
    pollfd p{fd_, POLLRDHUP, 0};
    if (poll(&p, 1, 0) <= 0) return false;
    return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
  }

 private:
  const httplib::Request& req_;
  std::once_flag found_;
  int fd_ = -1;
};

class SinkStream : public ResponseStream {
 public:
  SinkStream(httplib::DataSink& sink, std::shared_ptr<DisconnectProbe> probe) : sink_(sink), probe_(std::move(probe)) {}
  bool write(std::string_view bytes) override {
    if (failed_) return false;
    if (!sink_.write(bytes.data(), bytes.size())) failed_ = true;
    return !failed_;
  }
  bool client_gone() const override { return failed_ || probe_->gone(); }

 private:
  httplib::DataSink& sink_;
  std::shared_ptr<DisconnectProbe> probe_;
  bool failed_ = false;
};

enum class BodyProblem {
  none,
  too_large,          // read to its end and dropped: the connection can carry the next request
  too_large_unread,   // refused without reading it all
  too_slow,
  read_failed,
};

// Messages for the refusals httplib makes before a handler runs.
std::string boundary_error_message(int status) {
  switch (status) {
    case 400: return "malformed HTTP request";
    case 404: return "not found";
    case 405: return "method not allowed";
    case 413: return "request body too large";
    case 414: return "request URI too long";
    default: return "HTTP error " + std::to_string(status);
  }
}

}  // namespace

std::string HttpRequest::header(std::string_view lowercase_name) const {
  auto it = headers.find(std::string(lowercase_name));
  return it == headers.end() ? std::string() : it->second;
}

struct HttpServer::Impl {
  HttpServerOptions options;
  httplib::Server server;
  CorsPolicy cors;
  struct Route {
    std::string method;
    std::regex pattern;
  };
  std::vector<Route> routes;
  HttpErrorFormatter formatter = [](int status, const std::string& message) {
    HttpResponse r;
    r.status = status;
    r.content_type = "text/plain";
    r.body = message;
    return r;
  };

  // The methods the routes matching `path` answer (none when no route matches).
  std::vector<std::string> allowed_methods(const std::string& path) const {
    std::vector<std::string> methods;
    auto add = [&](const std::string& m) {
      if (std::find(methods.begin(), methods.end(), m) == methods.end()) methods.push_back(m);
    };
    for (const Route& r : routes) {
      if (!std::regex_match(path, r.pattern)) continue;
      add(r.method);
      if (r.method == "GET") add("HEAD");
    }
    if (!methods.empty() && cors.enabled()) add("OPTIONS");
    return methods;
  }

  // Before routing: CORS preflights and methods the path has no route for (httplib itself would answer
  // those 404 or 400, which tells a client nothing).
  httplib::Server::HandlerResponse screen_method(const httplib::Request& req, httplib::Response& res) {
    const std::vector<std::string> methods = allowed_methods(req.path);
    if (methods.empty()) {
      // Unknown path: httplib answers 404 itself, but for PUT, PATCH, DELETE, ... only after waiting
      // for a body that a bodiless request never sends.
      if (req.method == "GET" || req.method == "HEAD" || req.method == "POST") return httplib::Server::HandlerResponse::Unhandled;
      return refuse(req, res, formatter(404, "not found"));
    }
    std::string allow;  // as the `Allow` header lists them
    for (const std::string& m : methods) allow += (allow.empty() ? "" : ", ") + m;
    const std::string origin = req.get_header_value("Origin");
    if (req.method == "OPTIONS" && req.has_header("Access-Control-Request-Method") && cors.allows(origin)) {
      res.status = 204;
      for (const auto& [name, value] :
           cors.preflight_headers(origin, allow, req.get_header_value("Access-Control-Request-Headers"))) {
        res.set_header(name, value);
      }
      return httplib::Server::HandlerResponse::Handled;
    }
    // OPTIONS is listed for preflights only; a route handles every other method listed.
    const bool routed = req.method != "OPTIONS" && std::find(methods.begin(), methods.end(), req.method) != methods.end();
    if (routed) return httplib::Server::HandlerResponse::Unhandled;
    std::string message = "method " + req.method + " is not allowed on " + req.path + " (allowed: " + allow + ")";
    if (req.method == "OPTIONS" && !origin.empty()) {
      message += cors.enabled() ? "; origin " + origin + " is not in the server's CORS allow-list"
                                : "; cross-origin requests are off (hearth serve --cors-origin)";
    }
    HttpResponse refusal = formatter(405, message);
    refusal.headers.emplace_back("Allow", allow);
    return refuse(req, res, refusal);
  }

  // Answers before the body was read.
  httplib::Server::HandlerResponse refuse(const httplib::Request& req, httplib::Response& res, const HttpResponse& refusal) {
    apply(refusal, res, nullptr);
    // A body the handler never read may still be on the wire.
    if (req.has_header("Content-Length") || req.has_header("Transfer-Encoding")) res.set_header("Connection", "close");
    return httplib::Server::HandlerResponse::Handled;
  }

  void apply(const HttpResponse& from, httplib::Response& to, std::shared_ptr<DisconnectProbe> probe) {
    to.status = from.status;
    for (const auto& [name, value] : from.headers) to.set_header(name, value);
    if (from.stream) {
      auto producer = from.stream;
      to.set_chunked_content_provider(from.content_type, [producer, probe](size_t, httplib::DataSink& sink) {
        SinkStream stream(sink, probe);
        try {
          producer(stream);
        } catch (const std::exception& e) {
          std::fprintf(stderr, "hearth: streamed response failed: %s\n", e.what());
        }
        sink.done();
        return true;
      });
    } else {
      to.set_content(from.body, from.content_type);
    }
  }

  HttpRequest convert(const httplib::Request& req, std::string body, std::shared_ptr<DisconnectProbe> probe) {
    HttpRequest out;
    out.method = req.method;
    out.path = req.path;
    for (const auto& [name, value] : req.headers) out.headers.emplace(lowercase(name), value);
    for (const auto& [name, value] : req.params) out.query.emplace(name, value);
    for (size_t i = 1; i < req.matches.size(); ++i) out.path_params.push_back(req.matches[i].str());
    out.body = std::move(body);
    out.remote_addr = req.remote_addr;
    out.client_gone = [probe] { return probe->gone(); };
    return out;
  }

  void run_handler(const HttpHandler& handler, const httplib::Request& req, httplib::Response& res, std::string body) {
    auto probe = std::make_shared<DisconnectProbe>(req);
    HttpResponse response;
    try {
      response = handler(convert(req, std::move(body), probe));
    } catch (const std::exception& e) {
      response = formatter(500, std::string("internal error: ") + e.what());
    }
    apply(response, res, probe);
  }

  // Reads the body with a size limit and an overall deadline (a trickled body cannot hold a thread
  // longer than body_deadline_seconds). A body over the limit is still read to its end (and dropped)
  // up to drain_limit(), so that the connection stays usable and the client, still sending, receives
  // the 413 instead of a reset.
  size_t drain_limit() const { return std::max<size_t>(options.max_body_bytes * 4, size_t(256) << 20); }

  BodyProblem read_body(const httplib::Request& req, const httplib::ContentReader& reader, std::string& body) {
    const uint64_t declared = req.get_header_value<uint64_t>("Content-Length");
    if (declared > drain_limit()) return BodyProblem::too_large_unread;
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + std::chrono::seconds(options.body_deadline_seconds);
    BodyProblem problem = BodyProblem::none;
    size_t received = 0;
    bool ok = reader([&](const char* data, size_t length) {
      received += length;
      if (received > options.max_body_bytes) {
        problem = BodyProblem::too_large;
        body.clear();
        if (received > drain_limit()) return false;
      } else {
        body.append(data, length);
      }
      if (std::chrono::steady_clock::now() > deadline) {
        problem = BodyProblem::too_slow;
        return false;
      }
      return true;
    });
    if (!ok && problem == BodyProblem::none) {
      // A read that failed only after waiting the read timeout is a stalled client; sooner, the body
      // itself was unreadable (bad chunk framing, connection closed early).
      const bool waited = std::chrono::steady_clock::now() - start >= std::chrono::seconds(options.read_timeout_seconds);
      problem = waited ? BodyProblem::too_slow : BodyProblem::read_failed;
    }
    if (!ok && problem == BodyProblem::too_large) problem = BodyProblem::too_large_unread;
    return problem;
  }
};

HttpServer::HttpServer(HttpServerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->cors = CorsPolicy(impl_->options.cors_origins);
  Impl* impl = impl_.get();
  auto& server = impl->server;
  const size_t threads = std::max<size_t>(impl->options.threads, 4);
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // The limit itself is enforced in read_body (also for chunked bodies, which httplib does not count).
  server.set_payload_max_length(impl->drain_limit());
  server.set_read_timeout(impl->options.read_timeout_seconds, 0);
  server.set_write_timeout(impl->options.read_timeout_seconds, 0);
  server.set_keep_alive_max_count(100);
  // Every response of status >= 400 passes here; fill in a body for the ones httplib made itself.
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [impl](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty() || res.content_provider_) return httplib::Server::HandlerResponse::Unhandled;
        HttpResponse formatted = impl->formatter(res.status, boundary_error_message(res.status));
        res.set_content(formatted.body, formatted.content_type);
        return httplib::Server::HandlerResponse::Handled;
      }));
  server.set_exception_handler([impl](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    HttpResponse formatted = impl->formatter(500, "internal error");
    res.status = 500;
    res.set_content(formatted.body, formatted.content_type);
  });
  server.set_pre_routing_handler(
      [impl](const httplib::Request& req, httplib::Response& res) { return impl->screen_method(req, res); });
  // Every response, errors included, tells an allowed browser origin that it may read it.
  server.set_post_routing_handler([impl](const httplib::Request& req, httplib::Response& res) {
    for (const auto& [name, value] : impl->cors.response_headers(req.get_header_value("Origin"))) res.set_header(name, value);
  });
  if (impl->options.access_log) {
    server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
      std::fprintf(stderr, "hearth: %s %s -> %d\n", req.method.c_str(), req.path.c_str(), res.status);
    });
  }
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::route(const std::string& method, const std::string& path_pattern, HttpHandler handler) {
  Impl* impl = impl_.get();
  auto& server = impl->server;
  if (method == "GET" || method == "POST") impl->routes.push_back({method, std::regex(path_pattern)});
  if (method == "GET") {
    server.Get(path_pattern, [impl, handler](const httplib::Request& req, httplib::Response& res) {
      impl->run_handler(handler, req, res, {});
    });
  } else if (method == "POST") {
    server.Post(path_pattern, [impl, handler](const httplib::Request& req, httplib::Response& res,
                                              const httplib::ContentReader& reader) {
      std::string body;
      const BodyProblem problem = impl->read_body(req, reader, body);
      switch (problem) {
        case BodyProblem::none:
          impl->run_handler(handler, req, res, std::move(body));
          return;
        case BodyProblem::too_large:
        case BodyProblem::too_large_unread:
          impl->apply(impl->formatter(413, "request body is larger than " + std::to_string(impl->options.max_body_bytes) +
                                               " bytes"),
                      res, nullptr);
          break;
        case BodyProblem::too_slow:
          impl->apply(impl->formatter(408, "request body was not received in time"), res, nullptr);
          break;
        case BodyProblem::read_failed:
          impl->apply(impl->formatter(400, "request body could not be read (malformed chunked encoding or cut short)"),
                      res, nullptr);
          break;
      }
      // Part of the body may still be on the wire: ask the client not to reuse the connection.
      if (problem != BodyProblem::too_large) res.set_header("Connection", "close");
    });
  } else {
    throw Error("HttpServer::route: unsupported method " + method, ErrorKind::internal);
  }
}

void HttpServer::set_error_formatter(HttpErrorFormatter formatter) { impl_->formatter = std::move(formatter); }

int HttpServer::bind() {
  auto& o = impl_->options;
  if (o.port == 0) {
    int port = impl_->server.bind_to_any_port(o.host);
    if (port <= 0) throw Error("cannot listen on " + o.host + " (any port)", ErrorKind::io);
    o.port = port;
    return port;
  }
  if (!impl_->server.bind_to_port(o.host, o.port)) {
    throw Error("cannot listen on " + o.host + ":" + std::to_string(o.port) + " (address in use or not available)",
                ErrorKind::io);
  }
  return o.port;
}

void HttpServer::run() { impl_->server.listen_after_bind(); }

void HttpServer::stop() {
  if (impl_->server.is_running()) impl_->server.stop();
}

}  // namespace hearth::api
